"""The policy file: the fixed schema, errors naming line and field, the bare ``on`` key."""

from __future__ import annotations

import struct

import pytest

from pybpf.guard import PolicyError, parse_policy
from pybpf.guard.tables import build_tables

GOOD = """\
rules:
  - name: no-netcat
    on: exec
    match:
      binary: /usr/bin/true
    action: kill
  - name: protect-passwd
    on: open
    match:
      path: /etc/passwd
      flags: [write]
    action: deny
  - name: no-bench-net
    on: connect
    match:
      cidr: 198.18.0.0/15
      port: 9
      uid: 1000
      comm: curl
    action: log
"""


def test_bare_on_key_is_the_event_kind():
    policy = parse_policy(GOOD, "p.yaml")
    assert [(r.name, r.on, r.action) for r in policy.rules] == [
        ("no-netcat", "exec", "kill"), ("protect-passwd", "open", "deny"),
        ("no-bench-net", "connect", "log")]
    assert policy.rules[2].cidr == ("198.18.0.0/15",) and policy.rules[2].port == (9,)
    assert policy.rules[1].flags == ("write",)


@pytest.mark.parametrize(("text", "line", "field"), [
    (GOOD.replace("action: kill", "action: explode"), 6, "action"),
    (GOOD.replace("on: open", "on: opne"), 8, "on"),
    (GOOD.replace("flags: [write]", "flags: [wirte]"), 11, "match.flags"),
    (GOOD.replace("cidr: 198.18.0.0/15", "cidr: 198.18.0.0/99"), 16, "match.cidr"),
    (GOOD.replace("port: 9", "port: 70000"), 17, "match.port"),
    (GOOD.replace("path: /etc/passwd", "path: etc/passwd"), 10, "match.path"),
    (GOOD.replace("binary: /usr/bin/true", "binary: /no/such/file"), 5, "match.binary"),
    (GOOD.replace("binary: /usr/bin/true", "path: /etc/x"), 5, "match.path"),
    (GOOD.replace("name: no-bench-net", "name: no-netcat"), 13, "name"),
    (GOOD.replace("    action: log\n", ""), 13, "action"),
    (GOOD.replace("comm: curl", "command: curl"), 19, "match.command"),
    (GOOD + "  - name: [unclosed\n", 22, "yaml"),
    ("rulez: []\n", 1, "rulez"),
])
def test_errors_name_line_and_field(text, line, field):
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    err = info.value
    assert (err.line, err.field) == (line, field), str(err)
    assert str(err).startswith(f"p.yaml:{line}: {field}: ")


def test_tables_carry_shorter_prefixes_into_longer_entries():
    text = """\
rules:
  - name: etc
    on: open
    match:
      path_prefix: /etc/
    action: log
  - name: passwd
    on: open
    match:
      path: /etc/passwd
    action: kill
"""
    t = build_tables(parse_policy(text), 1)
    entries = {key[8:].rstrip(b"\0"): (struct.unpack_from("<II", key), value)
               for key, value in t.maps["paths"].items()}
    (plen, gen), value = entries[b"/etc/passwd"]
    assert gen == 1 and plen == 8 * (4 + len(b"/etc/passwd\0"))
    assert int.from_bytes(value, "little") == 0b11   # both rules
    (plen, gen), value = entries[b"/etc/"]
    assert plen == 8 * (4 + 5) and int.from_bytes(value, "little") == 0b01
    kill, deny = struct.unpack_from("<QQ", t.config, 88)
    assert (kill, deny) == (0b10, 0)
