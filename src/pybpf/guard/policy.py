"""The policy file: YAML read into checked :class:`Rule` values, every error with its line.

The document is composed into PyYAML nodes and read from them, not from ``yaml.safe_load``:
a node keeps its line, so an error names where it is, and a key is read as the text it was
written as, so the bare ``on`` key (YAML 1.1 reads it as the boolean true) is the string
``on``. Nothing here touches the kernel: a policy is checked whole before anything loads.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import InvalidInputError

__all__ = ["KINDS", "ACTIONS", "MAX_RULES", "Rule", "Policy", "PolicyError", "load_policy",
           "parse_policy"]

# event kinds a rule can be ``on``, in the order of their bits in the kernel's masks
KINDS = ("exec", "open", "connect", "bind", "ptrace", "setuid", "module_load", "bpf",
         "mount", "kill", "sysctl")
ACTIONS = ("log", "kill", "deny")
MAX_RULES = 64   # one bit each in the kernel's u64 rule masks
OPEN_FLAGS = ("read", "write")
PATH_MAX = 251   # bytes of a path the kernel compares (its key holds 252 with the NUL)

_MATCH_KEYS: dict[str, tuple[str, ...]] = {
    "binary": ("exec",), "binary_prefix": ("exec",),
    "path": ("open",), "path_prefix": ("open",), "flags": ("open",),
    "cidr": ("connect", "bind"), "port": ("connect", "bind"),
    "sysctl": ("sysctl",), "sysctl_prefix": ("sysctl",),
    "uid": KINDS, "comm": KINDS, "container": KINDS,
}
_RULE_KEYS = ("name", "on", "match", "action")
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class PolicyError(InvalidInputError):
    """A policy that cannot be enforced: ``line`` and ``field`` say where and what."""

    def __init__(self, path: str, line: int, field_name: str, message: str):
        self.path, self.line, self.field = path, line, field_name
        super().__init__(f"{path}:{line}: {field_name}: {message}")


@dataclass(frozen=True)
class Rule:
    """One rule as written (``binary`` already resolved to the file it names)."""

    name: str
    on: str
    action: str
    line: int
    binary: tuple[str, ...] = ()
    binary_prefix: tuple[str, ...] = ()
    path: tuple[str, ...] = ()
    path_prefix: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    cidr: tuple[str, ...] = ()
    port: tuple[int, ...] = ()
    uid: tuple[int, ...] = ()
    comm: tuple[str, ...] = ()
    container: tuple[str, ...] = ()
    sysctl: tuple[str, ...] = ()
    sysctl_prefix: tuple[str, ...] = ()


@dataclass
class Policy:
    rules: list[Rule] = field(default_factory=list)
    source: str = "<policy>"

    def __len__(self) -> int:
        return len(self.rules)


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and check the policy file ``path``; raises :class:`PolicyError`."""
    where = os.fspath(path)
    try:
        with open(where, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise PolicyError(where, 0, "file", err.strerror or str(err)) from None
    return parse_policy(text, where)


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Check the policy in ``text`` (``source`` names it in errors)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise PolicyError(source, line, "yaml", str(getattr(err, "problem", err))) from None
    if root is None:
        raise PolicyError(source, 1, "rules", "the policy is empty: give a list of rules")
    top = _mapping(root, source, "policy")
    for key, (knode, _) in top.items():
        if key != "rules":
            raise PolicyError(source, _line(knode), key, "unknown key (the policy has 'rules')")
    if "rules" not in top:
        raise PolicyError(source, _line(root), "rules", "missing")
    rules_node = top["rules"][1]
    if not isinstance(rules_node, yaml.SequenceNode) or not rules_node.value:
        raise PolicyError(source, _line(rules_node), "rules", "must be a non-empty list")
    if len(rules_node.value) > MAX_RULES:
        raise PolicyError(source, _line(rules_node.value[MAX_RULES]), "rules",
                          f"at most {MAX_RULES} rules")
    policy = Policy(source=source)
    seen: dict[str, int] = {}
    for node in rules_node.value:
        rule = _rule(node, source)
        if rule.name in seen:
            raise PolicyError(source, rule.line, "name",
                              f"{rule.name!r} is already the name of the rule at line "
                              f"{seen[rule.name]}")
        seen[rule.name] = rule.line
        policy.rules.append(rule)
    return policy


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _mapping(node: yaml.Node, source: str, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise PolicyError(source, _line(node), what, "must be a mapping of key: value")
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for knode, vnode in node.value:
        key = str(knode.value)  # the text as written: a bare `on` stays "on"
        if key in out:
            raise PolicyError(source, _line(knode), key, "given twice")
        out[key] = (knode, vnode)
    return out


def _scalars(node: yaml.Node, source: str, what: str) -> list[tuple[str, int]]:
    """A scalar or a list of scalars, each with its line."""
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    if not items:
        raise PolicyError(source, _line(node), what, "an empty list matches nothing")
    out = []
    for item in items:
        if not isinstance(item, yaml.ScalarNode) or item.value == "":
            raise PolicyError(source, _line(item), what, "must be a value or a list of values")
        out.append((str(item.value), _line(item)))
    return out


def _rule(node: yaml.Node, source: str) -> Rule:
    fields = _mapping(node, source, "rule")
    line = _line(node)
    for key, (knode, _) in fields.items():
        if key not in _RULE_KEYS:
            raise PolicyError(source, _line(knode), key,
                              f"unknown key (a rule has {', '.join(_RULE_KEYS)})")
    for key in ("name", "on", "action"):
        if key not in fields:
            raise PolicyError(source, line, key, "missing")
        if not isinstance(fields[key][1], yaml.ScalarNode):
            raise PolicyError(source, _line(fields[key][1]), key, "must be a single value")
    name, on, action = (str(fields[k][1].value) for k in ("name", "on", "action"))
    if not _NAME.match(name):
        raise PolicyError(source, _line(fields["name"][1]), "name",
                          f"{name!r}: use 1-64 letters, digits, '_', '-', '.', ':'")
    if on not in KINDS:
        raise PolicyError(source, _line(fields["on"][1]), "on",
                          f"{on!r} is not one of {' | '.join(KINDS)}")
    if action not in ACTIONS:
        raise PolicyError(source, _line(fields["action"][1]), "action",
                          f"{action!r} is not one of {' | '.join(ACTIONS)}")
    values: dict[str, Any] = {}
    if "match" in fields:
        match_node = fields["match"][1]
        if not (isinstance(match_node, yaml.ScalarNode) and match_node.value in ("", "~")):
            for key, (knode, vnode) in _mapping(match_node, source, "match").items():
                if key not in _MATCH_KEYS:
                    raise PolicyError(source, _line(knode), f"match.{key}",
                                      f"unknown key (known: {', '.join(_MATCH_KEYS)})")
                if on not in _MATCH_KEYS[key]:
                    raise PolicyError(source, _line(knode), f"match.{key}",
                                      f"does not apply to 'on: {on}' (only to "
                                      f"{', '.join(_MATCH_KEYS[key])})")
                values[key] = tuple(_value(key, text, ln, source)
                                    for text, ln in _scalars(vnode, source, f"match.{key}"))
    return Rule(name=name, on=on, action=action, line=line, **values)


def _value(key: str, text: str, line: int, source: str) -> Any:
    def bad(why: str) -> PolicyError:
        return PolicyError(source, line, f"match.{key}", f"{text!r}: {why}")

    if key in ("binary", "path", "path_prefix", "binary_prefix"):
        if not text.startswith("/"):
            raise bad("must be an absolute path")
        if len(text.encode()) > PATH_MAX:
            raise bad(f"longer than the {PATH_MAX} bytes the kernel compares")
    if key == "binary":
        real = os.path.realpath(text)   # the executed file is the link's target
        if not os.path.isfile(real):
            raise bad("no such file (a binary rule names an existing executable)")
        return real
    if key == "binary_prefix":
        real = os.path.realpath(text)
        if not os.path.isdir(real):
            raise bad("must name an existing directory (matched as a directory)")
        return real
    if key == "flags":
        if text not in OPEN_FLAGS:
            raise bad(f"not one of {', '.join(OPEN_FLAGS)}")
        return text
    if key == "cidr":
        try:
            return str(ipaddress.ip_network(text, strict=False))
        except ValueError as err:
            raise bad(str(err)) from None
    if key in ("port", "uid"):
        limit = 0xFFFF if key == "port" else 0xFFFFFFFE
        if not re.fullmatch(r"\d+", text) or not 0 <= int(text) <= limit:
            raise bad(f"must be an integer 0..{limit}")
        return int(text)
    if key == "comm":
        if len(text.encode()) > 15:
            raise bad("a command name has at most 15 bytes")
        return text
    if key in ("sysctl", "sysctl_prefix"):
        name = text.replace(".", "/") if "/" not in text else text   # kernel.hostname
        name = name.removeprefix("/proc/sys/").strip("/") + ("/" if text.endswith("/") else "")
        if not re.fullmatch(r"[A-Za-z0-9_./-]+", name) or len(name) > PATH_MAX:
            raise bad("a sysctl name: kernel/hostname, kernel.hostname or net/ipv4/")
        return name
    return text   # container: checked against the cgroup tree when the rules are built
