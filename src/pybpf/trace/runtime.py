"""Running a compiled script on the kernel: load, attach, BEGIN, read the ring buffer of
actions, END, read the maps back as plan values, close everything."""

from __future__ import annotations

import os
import select
import struct
import time

from ..errors import BPFError, InvalidInputError, KernelError, NotSupportedError
from ..kernel.signals import flag_on_signals
from .output import Printer

TYPE_CHECKING = False     # typing is not imported by `pybpf trace`'s start (.quickstart)

# each attach family, the ring buffer reader and socket are imported when a script uses
# them: a tracepoint script's start-up imports no uprobe, usdt or perf code, and one
# served by .quickstart not the kernel backend's collection either
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from typing import IO, Any

    from ..kernel.collection import Collection
    from ..kernel.links import Link
    from ..kernel.ringbuf import RingBuffer
    from .child import HeldCommand
    from .compiler import Compiled
    from .plan import ValueType
    from .probes import Probe

__all__ = ["Session", "Decoder"]

_SOFTWARE = {"cpu-clock": 0, "cpu": 0, "task-clock": 1, "page-faults": 2, "faults": 2,
             "context-switches": 3, "cs": 3, "cpu-migrations": 4, "minor-faults": 5,
             "major-faults": 6, "alignment-faults": 7, "emulation-faults": 8, "dummy": 9,
             "bpf-output": 10}
_HARDWARE = {"cpu-cycles": 0, "cycles": 0, "instructions": 1, "cache-references": 2,
             "cache-misses": 3, "branch-instructions": 4, "branches": 4,
             "branch-misses": 5, "bus-cycles": 6, "frontend-stalls": 7,
             "backend-stalls": 8, "ref-cycles": 9}
_DEFAULT_COUNT = 1_000_000 // 10   # bpftrace's default sample period for software events
PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE = 0, 1     # enum perf_type_id


class Decoder:
    """Turns the kernel's bytes into the Python values :mod:`.plan` promises."""

    def __init__(self, compiled: Compiled, coll: Collection | None):
        self.compiled = compiled
        self.coll = coll
        self._symbols: Any = None
        self._maps: dict[int, list[Any]] = {}
        self.epoch_offset = time.time_ns() - time.monotonic_ns()
        self._elfs: dict[str, Any] = {}

    @property
    def symbols(self) -> Any:
        if self._symbols is None:
            from ..tools.symbols import Symbolizer

            self._symbols = Symbolizer()
        return self._symbols

    def value(self, vt: ValueType, data: bytes) -> Any:
        k = vt.kind
        if k == "int":
            return struct.unpack_from("<q", data)[0]
        if k == "timestamp":       # nsecs (CLOCK_MONOTONIC) -> nanoseconds since the epoch
            return struct.unpack_from("<Q", data)[0] + self.epoch_offset
        if k in ("uint", "kaddr", "uaddr"):
            return struct.unpack_from("<Q", data)[0]
        if k in ("cgroup_path", "macaddr"):
            from .output import decode_text
            return decode_text(vt, data)
        if k == "bool":
            return bool(struct.unpack_from("<Q", data)[0])
        if k == "str":
            return data[:vt.size].split(b"\0", 1)[0].decode(errors="surrogateescape")
        if k == "buf":      # its length, then its bytes
            return bytes(data[8:8 + min(struct.unpack_from("<Q", data)[0], vt.size - 8)])
        if k == "tuple":
            out, pos = [], 0
            for f in vt.fields:
                out.append(self.value(f, data[pos:pos + f.size]))
                pos += f.size
            return tuple(out)
        if k == "ksym":     # an unknown address prints as itself, as bpftrace's
            addr = struct.unpack_from("<Q", data)[0]
            name = self.symbols.kernel_name(addr)
            return name if name != "[unknown]" else f"{addr:#x}" if addr else "0"
        if k == "usym":
            addr, pid = struct.unpack_from("<QQ", data)
            name = self.symbols.user_name(pid, addr)
            return name if name != "[unknown]" else f"{addr:#x}" if addr else "0"
        if k == "probe":
            return self.compiled.probe_names[struct.unpack_from("<Q", data)[0]]
        if k == "username":
            import pwd

            uid = struct.unpack_from("<Q", data)[0]
            try:
                return pwd.getpwuid(uid).pw_name
            except KeyError:
                return str(uid)
        if k == "inet":
            import socket

            family = struct.unpack_from("<Q", data)[0]
            if family == socket.AF_INET6:
                return socket.inet_ntop(socket.AF_INET6, bytes(data[8:24]))
            return socket.inet_ntop(socket.AF_INET, bytes(data[8:12]))
        if k in ("kstack", "ustack"):
            return self.stack(vt, data)
        return None

    def stack(self, vt: ValueType, data: bytes) -> tuple[str, ...]:
        """The frames of a stack, innermost first: ``vfs_read+23`` (bpftrace mode), or
        with the address first, and a user frame's file after (perf mode)."""
        from .plan import stack_form

        kind = vt.kind
        mode, _, map_name = stack_form(kind, vt.fmt)
        stack_id = struct.unpack_from("<q", data)[0]
        pid = struct.unpack_from("<Q", data, 8)[0] if kind == "ustack" else 0
        if stack_id < 0 or self.coll is None:
            return ()
        try:
            raw = bytes(self.coll.raw_maps[map_name].lookup(struct.pack("<I", stack_id)))  # type: ignore[arg-type]
        except (KeyError, OSError, BPFError):
            return ()
        frames = []
        for (addr,) in struct.iter_unpack("<Q", raw):
            if not addr:
                break
            if kind == "kstack":      # bpftrace writes offsets in decimal: vfs_read+23
                name, plus, off = self.symbols.kernel.name(addr, with_offset=True).partition("+")
                frame = f"{name}+{int(off, 16)}" if plus else name
                frames.append(f"{addr:x} {frame}" if mode == "perf" else frame)
            elif mode == "perf":
                frame, path = self.user_frame(pid, addr, with_path=True)
                frames.append(f"{addr:x} {frame} ({path})")
            else:
                frames.append(self.user_frame(pid, addr))
        return tuple(frames)

    def user_frame(self, pid: int, addr: int, *, with_path: bool = False) -> Any:
        """A user frame as bpftrace writes it: ``func+decimal offset``, else the address;
        ``with_path``: with the file it is in (``[unknown]``) as a pair."""
        from ..tools.symbols import ElfSymbols, read_maps

        maps = self._maps.get(pid)
        if maps is None:
            try:
                maps = self._maps[pid] = read_maps(pid)
            except OSError:
                maps = self._maps[pid] = []
        for m in maps:
            if m.start <= addr < m.end and m.path.startswith("/"):
                elf = self._elfs.get(m.path)
                if elf is None:
                    root = f"/proc/{pid}/root{m.path}"
                    elf = self._elfs[m.path] = ElfSymbols(
                        root if os.path.exists(root) else m.path)
                vaddr = elf.vaddr_of(addr - m.start + m.offset)
                found = elf._table.find(vaddr) if vaddr is not None else None
                if found is not None:
                    frame = f"{found[0]}+{found[1]}"
                    return (frame, m.path) if with_path else frame
                break
        return (hex(addr), "[unknown]") if with_path else hex(addr)

    def record(self, data: bytes) -> tuple[Any, list[Any]]:
        aid = struct.unpack_from("<Q", data)[0]
        action = self.compiled.plan.actions[aid]
        values, pos = [], 8
        for vt in action.args:
            values.append(self.value(vt, data[pos:pos + vt.size]))
            pos += vt.size
        if action.kind == "join":       # the strings up to the array's NULL pointer
            parts = values[:values.index("")] if "" in values else values
            return action, [tuple(parts)]
        return action, values

    def map_entries(self, name: str) -> list[tuple[tuple[Any, ...], Any]]:
        """Every entry of script map ``name`` as (key values, value) in plan terms."""
        assert self.coll is not None
        plan = self.compiled.plan.maps[name]
        kmap = self.coll.raw_maps[self.compiled.map_names[name]]
        raw = list(kmap.items())
        grouped: dict[bytes, list[int]] = {}
        out: list[tuple[tuple[Any, ...], Any]] = []
        for kb, vb in raw:
            kb, vb = bytes(kb), bytes(vb)  # type: ignore[arg-type]
            if plan.aggregation in ("hist", "lhist"):
                user, bucket = kb[:-8], struct.unpack_from("<Q", kb, len(kb) - 8)[0]
                buckets = grouped.setdefault(user, [])
                while len(buckets) <= bucket:
                    buckets.append(0)
                buckets[bucket] += struct.unpack_from("<Q", vb)[0]
                continue
            out.append((self.key(plan.keys, kb), self.map_value(plan, vb)))
        if plan.aggregation == "lhist" and plan.lhist is not None:
            lo, hi, step = plan.lhist
            n = (hi - lo) // step + 2
            for b in grouped.values():
                b.extend([0] * (n - len(b)))
        for user, buckets in grouped.items():
            out.append((self.key(plan.keys, user), buckets))
        return out

    def key(self, types: tuple[ValueType, ...], data: bytes) -> tuple[Any, ...]:
        out, pos = [], 0
        for vt in types:
            out.append(self.value(vt, data[pos:pos + vt.size]))
            pos += vt.size
        return tuple(out)

    def map_value(self, plan: Any, data: bytes) -> Any:
        agg = plan.aggregation
        if agg in ("avg", "stats"):     # the count, then the (signed) total
            return struct.unpack_from("<Qq", data)
        if agg in ("count", "sum"):
            return struct.unpack_from("<Q", data)[0]
        if agg in ("min", "max"):
            return struct.unpack_from("<q", data)[0]
        return self.value(plan.value, data)


class Session:
    """One run of a compiled script: ``with Session(compiled, out) as s: s.run(stop)``.

    ``pid`` limits uprobes and usdt probes to one process; ``json`` prints as ``-f json``.
    """

    def __init__(self, compiled: Compiled, out: IO[str], *, pid: int | None = None,
                 json: bool = False, printer: Any = None, cpid: int | None = None):
        self.compiled = compiled
        self.pid = pid
        self.cpid = cpid          # -c's command, for the cpid builtin
        self.printer = printer or Printer(compiled.plan, out, json=json)
        self.coll: Collection | None = None
        self.decoder = Decoder(compiled, None)
        self.ring: RingBuffer | None = None
        self.exit_requested = False
        self.out = out
        # uprobes as uprobe_multi links (one per program and binary; .uprobes), decided at
        # load: their programs then load for those links only
        self.uprobe_multi = False

    # -- lifetime ---------------------------------------------------------------------------
    def load(self) -> Session:
        from ..kernel.collection import Collection, CollectionOptions

        spec = self.compiled.spec
        if any(u.provider in ("uprobe", "uretprobe") for u in self.compiled.units):
            from . import uprobes

            if uprobes.uses_multi():
                self.uprobe_multi = True
                spec = uprobes.for_multi(spec, self.compiled.units)
        coll = Collection.open(spec, options=CollectionOptions(load_btf=False))
        self.coll = coll.load()
        self.decoder.coll = self.coll
        if "elapsed" in self.coll.raw_maps:
            self.coll.raw_maps["elapsed"].update(struct.pack("<I", 0),
                                                 struct.pack("<Q", time.monotonic_ns()))
        if "cpid" in self.coll.raw_maps and self.cpid is not None:
            self.coll.raw_maps["cpid"].update(struct.pack("<I", 0), struct.pack("<Q", self.cpid))
        if "ringbuf" in self.coll.raw_maps:
            self.ring = self.coll.ring_reader("ringbuf", self._on_record)
        return self

    def close(self) -> None:
        if self.coll is not None:
            self.coll.close()
            self.coll = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- attaching --------------------------------------------------------------------------
    def attach(self) -> int:
        """Attach every probe but BEGIN/END; the number ``Attaching N probes...`` says."""
        assert self.coll is not None
        index = 0       # of each point in probe_names
        for unit in self.compiled.units:
            if unit.provider in ("BEGIN", "END"):
                index += len(unit.points)
                continue
            prog = self.coll.programs[unit.name]
            if self.uprobe_multi and unit.provider in ("uprobe", "uretprobe"):
                for link in self._attach_multi(prog, unit, index):
                    self.coll.links.append(link)
                    self.coll.links_of.setdefault(unit.name, []).append(link)
                index += len(unit.points)
                continue
            for p in unit.points:
                link = self._attach_one(prog, p, index if unit.cookies else None)
                index += 1
                self.coll.links.append(link)
                self.coll.links_of.setdefault(unit.name, []).append(link)
        return self.compiled.attach_count

    def _attach_multi(self, prog: Any, unit: Any, first_index: int) -> list[Link]:
        from .uprobes import attach_multi

        try:
            return attach_multi(prog, unit, first_index, self.pid)
        except NotSupportedError as err:
            raise BPFError(f"ERROR: {unit.points[0].name}: this kernel lacks "
                           f"{unit.provider} probes ({err})") from None
        except (InvalidInputError, KernelError) as err:
            raise BPFError(f"ERROR: Error attaching probe: '{unit.points[0].name}': "
                           f"{err}") from None

    def _attach_one(self, prog: Any, p: Probe, cookie: int | None = None) -> Link:
        try:
            if cookie is not None and p.provider == "tracepoint":   # Unit.cookies
                from ..kernel.links.tracepoint import attach_tracepoint

                return attach_tracepoint(prog, p.target, p.func, cookie=cookie)
            return self._attach(prog, p, cookie or 0)
        except NotSupportedError as err:
            raise BPFError(f"ERROR: {p.name}: this kernel lacks {p.provider} probes "
                           f"({err})") from None
        except (InvalidInputError, KernelError) as err:
            raise BPFError(f"ERROR: Error attaching probe: '{p.name}': {err}") from None

    def _attach(self, prog: Any, p: Probe, cookie: int = 0) -> Link:
        prov = p.provider
        if prov == "tracepoint":
            from ..kernel.links.tracepoint import attach_tracepoint

            return attach_tracepoint(prog, p.target, p.func)
        if prov == "rawtracepoint":
            from ..kernel.links.raw_tracepoint import attach_raw_tracepoint

            return attach_raw_tracepoint(prog, p.func)
        if prov in ("uprobe", "uretprobe"):
            from ..kernel.links.uprobe import attach_uprobe
            from .uprobes import site

            binary, offset = site(p)
            return attach_uprobe(prog, binary, None, offset=offset, cookie=cookie,
                                 retprobe=prov == "uretprobe", pid=self.pid)
        if prov == "usdt":
            from ..kernel.links.usdt import attach_usdt

            provider, _, name = p.func.rpartition(":")
            return attach_usdt(prog, p.target, provider or os.path.basename(p.target), name,
                               pid=self.pid)
        if prov in ("kprobe", "kretprobe"):
            from ..kernel.links.kprobe import attach_kprobe

            return attach_kprobe(prog, p.func, retprobe=prov == "kretprobe")
        if prov in ("kfunc", "kretfunc"):
            raise NotSupportedError(f"{prov} {p.func}", hint="fentry/fexit programs do not "
                                    "load on this kernel")
        from ..kernel.links.perf_event import attach_perf_event

        if prov == "profile":
            if p.target == "hz":
                return attach_perf_event(prog, sample_freq=p.count, pid=self.pid)
            return attach_perf_event(prog, sample_period=p.count * _unit(p.target),
                                     pid=self.pid)
        if prov == "interval":
            period = 1_000_000_000 // p.count if p.target == "hz" else \
                p.count * _unit(p.target)
            return attach_perf_event(prog, sample_period=period, cpus=[0])
        if prov in ("software", "hardware"):
            table = _SOFTWARE if prov == "software" else _HARDWARE
            if p.target not in table:
                raise InvalidInputError(f"{p.target} is not a {prov} event")
            return attach_perf_event(
                prog, type=PERF_TYPE_SOFTWARE if prov == "software" else PERF_TYPE_HARDWARE,
                config=table[p.target],
                sample_period=p.count or _DEFAULT_COUNT, pid=self.pid)
        raise InvalidInputError(f"cannot attach {p.name}")

    # -- running ----------------------------------------------------------------------------
    def run_special(self, name: str, *, drain: bool = True) -> None:
        """Run BEGIN or END once, on this CPU, by BPF_PROG_TEST_RUN; print what it sent
        unless ``drain`` is False (BEGIN's output waits for the probes, as bpftrace's)."""
        assert self.coll is not None
        prog = self.coll.programs.get(name)
        if prog is not None:
            prog.test_run(ctx=bytes(8), repeat=0, ctx_size_out=0)
        if drain:
            self.drain()

    def drain(self) -> None:
        if self.ring is not None:
            self.ring.consume()

    def _on_record(self, data: Any) -> None:
        action, values = self.decoder.record(bytes(data))
        kind = action.kind
        if self.exit_requested and kind != "exit":
            return
        if kind == "exit":
            self.exit_requested = True
        elif kind == "print_map":
            self.printer.map(action.map, self.decoder.map_entries(action.map), action.top,
                             action.div)
        elif kind in ("clear", "zero"):
            self._clear(action.map, zero=kind == "zero")
        elif kind == "cat":
            self.printer.cat(_cat(action.fmt, values))
        elif kind == "system":
            import subprocess

            from .formats_py import c_format

            cmd = c_format(action.fmt, values)
            done = subprocess.run(cmd, shell=True, capture_output=True, text=True,
                                  check=False)
            self.printer.system(done.stdout)
        else:
            self.printer.action(action, values)

    def _clear(self, name: str, *, zero: bool) -> None:
        assert self.coll is not None
        kmap = self.coll.raw_maps[self.compiled.map_names[name]]
        for key in list(kmap.keys()):
            if zero:
                kmap.update(key, bytes(kmap.value_size if hasattr(kmap, "value_size")
                                       else len(kmap.lookup(key))))
            else:
                try:
                    kmap.delete(key)
                except KeyError:
                    pass

    def maps(self) -> dict[str, Any]:
        """Every script map's entries, decoded (plan values): name -> [(key, value)]."""
        return {name: self.decoder.map_entries(name) for name in self.compiled.plan.maps}

    def run(self, stop: threading.Event | None = None, *, quiet: bool = False,
            started: Callable[[], None] | None = None,
            child_getter: Callable[[], HeldCommand | None] | None = None) -> int:
        """Load, BEGIN, attach, print events until exit()/``stop``/the child ends, END,
        print the maps. Returns 0.

        BEGIN runs before the probes attach, as in bpftrace 0.17, so what it prints comes
        first in the ring buffer, before any event; it prints once every probe is attached
        (a script's "ready" line from BEGIN still means every probe is in place)."""
        if self.coll is None:
            self.load()
        self.run_special("BEGIN", drain=False)
        count = self.attach()
        # Ctrl-C/SIGTERM from here on ends the run as exit() does: END, then maps; the
        # loop sees it between polls, so no record's printing is cut short
        with flag_on_signals() as signalled:
            try:
                if not quiet:
                    self.printer.attached(count)
                self.drain()
                if started is not None:
                    started()
                while not self.exit_requested and not signalled and \
                        not (stop is not None and stop.is_set()):
                    child = child_getter() if child_getter is not None else None
                    if child is not None and child.poll() is not None:
                        break
                    if self.ring is not None:
                        self.ring.poll(100)
                    else:
                        select.select([], [], [], 0.1)
            except KeyboardInterrupt:   # a SIGINT raised before the flag was set
                pass
        assert self.coll is not None
        # no more events while the maps print; closed together, their grace periods overlap
        # (imported here: it imports typing, ~5 ms of a start that needs it only at exit)
        from ..kernel.closing import close_links

        close_links(reversed(self.coll.links))
        self.coll.links.clear()
        self.drain()
        self.exit_requested = False
        self.run_special("END")
        self.printer.exit(dict(self.maps()))
        return 0


def _unit(name: str) -> int:
    return {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000}.get(name, 1)


def _cat(fmt: str, values: list[Any]) -> str:
    from .formats_py import c_format

    path = c_format(fmt, values)
    try:
        with open(path, errors="surrogateescape") as f:
            return f.read(10240)
    except OSError as err:
        return f"ERROR: failed to open file '{path}': {err.strerror}\n"

