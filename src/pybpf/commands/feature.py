"""``pybpf feature [--json] [--helpers [PROG_TYPE]]``: what this kernel offers, found by
probing (``Features``), in the shape of ``bpftool feature probe``::

    Scanning system configuration...
    JIT compiler is enabled
    ...
    Scanning eBPF program types...
    eBPF program_type socket_filter is available
    ...
    Scanning eBPF map types...
    Scanning eBPF attach types...
    Scanning eBPF helper functions...      (with --helpers: one load per helper and type)

``--json`` prints one document: ``{"system_config": ..., "program_types": {name: bool},
"map_types": ..., "attach_types": ..., "helpers": {prog_type: [helper names]}}``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import IO, Any

from ..errors import BTFError, InvalidInputError, KernelError, NotSupportedError
from ..kernel.features import Features
from ..spec import AttachType, ProgramType
from .kernel_objects import print_json

A = AttachType
# attach types a program must name at load (expected_attach_type), by program type
ATTACH_TYPES_TO_PROBE: dict[ProgramType, tuple[AttachType, ...]] = {
    ProgramType.CGROUP_SOCK: (A.CGROUP_INET_SOCK_CREATE, A.CGROUP_INET4_POST_BIND,
                              A.CGROUP_INET6_POST_BIND, A.CGROUP_INET_SOCK_RELEASE),
    ProgramType.CGROUP_SOCK_ADDR: (
        A.CGROUP_INET4_BIND, A.CGROUP_INET6_BIND, A.CGROUP_INET4_CONNECT,
        A.CGROUP_INET6_CONNECT, A.CGROUP_UDP4_SENDMSG, A.CGROUP_UDP6_SENDMSG,
        A.CGROUP_UDP4_RECVMSG, A.CGROUP_UDP6_RECVMSG, A.CGROUP_INET4_GETPEERNAME,
        A.CGROUP_INET6_GETPEERNAME, A.CGROUP_INET4_GETSOCKNAME, A.CGROUP_INET6_GETSOCKNAME,
        A.CGROUP_UNIX_CONNECT, A.CGROUP_UNIX_SENDMSG, A.CGROUP_UNIX_RECVMSG),
    ProgramType.CGROUP_SOCKOPT: (A.CGROUP_GETSOCKOPT, A.CGROUP_SETSOCKOPT),
    ProgramType.TRACING: (A.TRACE_RAW_TP, A.TRACE_FENTRY, A.TRACE_FEXIT, A.MODIFY_RETURN),
    ProgramType.LSM: (A.LSM_MAC,),
    ProgramType.SK_LOOKUP: (A.SK_LOOKUP,),
    ProgramType.XDP: (A.XDP_DEVMAP, A.XDP_CPUMAP),
    ProgramType.NETFILTER: (A.NETFILTER,),
}
_ABSENT = "NOT available"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-j", "--json", action="store_true", help="one JSON document")
    parser.add_argument("-p", "--pretty", action="store_true", help="indented JSON")
    parser.add_argument("--helpers", nargs="?", const="all", metavar="PROG_TYPE",
                        help="probe helper functions too, for one program type (e.g. xdp) "
                             "or all (slower: one load per helper)")


def run(args: argparse.Namespace) -> int:
    report = probe_all(Features(), helpers=args.helpers)
    if args.json or args.pretty:
        print_json(report, sys.stdout, pretty=args.pretty)
    else:
        write_plain(report, sys.stdout)
    return 0


def _answer(probe: Any, *probe_args: Any) -> bool | str:
    try:
        return bool(probe(*probe_args))
    except KernelError as err:
        return f"unknown ({err})"


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def system_config(features: Features) -> dict[str, Any]:
    """The sysctls and kernel facilities bpftool reports under "system configuration"."""
    out: dict[str, Any] = {
        "bpf_jit_enable": _read("/proc/sys/net/core/bpf_jit_enable"),
        "bpf_jit_harden": _read("/proc/sys/net/core/bpf_jit_harden"),
        "bpf_jit_kallsyms": _read("/proc/sys/net/core/bpf_jit_kallsyms"),
        "unprivileged_bpf_disabled": _read("/proc/sys/kernel/unprivileged_bpf_disabled"),
        "kernel_btf": os.path.exists("/sys/kernel/btf/vmlinux"),
    }
    for name, probe in (("kprobes", features.have_kprobes),
                        ("uprobes", features.have_uprobes)):
        try:
            probe()
            out[name] = True
        except NotSupportedError:
            out[name] = False
    return out


def helper_names() -> dict[int, str]:
    """Helper ids and names from the kernel's own ``enum bpf_func_id`` (vmlinux BTF)."""
    from ..btf import Enum, load_kernel_spec

    try:
        func_ids = load_kernel_spec().find("bpf_func_id", Enum)
    except (BTFError, KeyError, OSError):
        return {}
    return {v.value: "bpf_" + v.name.removeprefix("BPF_FUNC_")
            for v in func_ids.values if v.value > 0 and not v.name.startswith("__")}


def probe_all(features: Features, *, helpers: str | None = None) -> dict[str, Any]:
    """Every answer as one JSON-able document (see the module docstring)."""
    report: dict[str, Any] = {"system_config": system_config(features)}
    raw = features.report()
    report["program_types"] = {k.lower(): v for k, v in raw["program_types"].items()}
    report["map_types"] = {k.lower(): v for k, v in raw["map_types"].items()}
    attach: dict[str, bool | str] = {}
    for prog_type, attach_types in ATTACH_TYPES_TO_PROBE.items():
        for attach_type in attach_types:
            attach[f"{attach_type.name.lower()} ({prog_type.name.lower()})"] = _answer(
                features.supports_attach_type, prog_type, attach_type)
    report["attach_types"] = attach
    if helpers is not None:
        report["helpers"] = probe_helpers(features, helpers, report["program_types"])
    return report


def probe_helpers(features: Features, which: str,
                  available: dict[str, bool | str]) -> dict[str, list[str]]:
    """For each available program type (or just ``which``): the helpers it may call."""
    names = helper_names()
    if not names:
        raise InvalidInputError("cannot name helpers: no 'enum bpf_func_id' in "
                                "/sys/kernel/btf/vmlinux")
    if which == "all":
        types = [ProgramType[t.upper()] for t, ok in available.items() if ok is True]
    else:
        try:
            types = [ProgramType[which.upper()]]
        except KeyError:
            raise InvalidInputError(f"--helpers: unknown program type {which!r}") from None
    out: dict[str, list[str]] = {}
    for prog_type in types:
        if available.get(prog_type.name.lower()) is not True:
            out[prog_type.name.lower()] = []
            continue
        out[prog_type.name.lower()] = [
            name for helper_id, name in sorted(names.items())
            if _answer(features.supports_helper, prog_type, helper_id) is True]
    return out


def _line(what: str, answer: bool | str) -> str:
    if answer is True:
        return f"{what} is available"
    if answer is False:
        return f"{what} is {_ABSENT}"
    return f"{what}: {answer}"


def write_plain(report: dict[str, Any], out: IO[str]) -> None:
    """bpftool's plain ``feature probe`` layout."""
    config = report["system_config"]
    out.write("Scanning system configuration...\n")
    jit = config["bpf_jit_enable"]
    out.write({"0": "JIT compiler is disabled", "1": "JIT compiler is enabled",
               "2": "JIT compiler is enabled with debugging traces in kernel logs"}.get(
        jit or "", f"JIT compiler: bpf_jit_enable is {jit}") + "\n")
    for key in ("bpf_jit_harden", "bpf_jit_kallsyms", "unprivileged_bpf_disabled"):
        if config[key] is not None:
            out.write(f"{key} is {config[key]}\n")
    out.write(_line("kernel BTF (/sys/kernel/btf/vmlinux)", config["kernel_btf"]) + "\n")
    out.write(_line("kprobe event source (CONFIG_KPROBES)", config["kprobes"]) + "\n")
    out.write(_line("uprobe event source (CONFIG_UPROBE_EVENTS)", config["uprobes"]) + "\n")
    out.write("\nScanning eBPF program types...\n")
    for name, answer in report["program_types"].items():
        out.write(_line(f"eBPF program_type {name}", answer) + "\n")
    out.write("\nScanning eBPF map types...\n")
    for name, answer in report["map_types"].items():
        out.write(_line(f"eBPF map_type {name}", answer) + "\n")
    out.write("\nScanning eBPF attach types...\n")
    for name, answer in report["attach_types"].items():
        out.write(_line(f"eBPF attach_type {name}", answer) + "\n")
    if "helpers" in report:
        out.write("\nScanning eBPF helper functions...\n")
        for prog_type, names in report["helpers"].items():
            out.write(f"eBPF helpers supported for program type {prog_type}:\n")
            out.writelines(f"\t- {name}\n" for name in names)
