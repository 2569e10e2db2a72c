"""What a bpftrace script prints, formatted exactly as bpftrace 0.17 prints it.

The runtime decodes map entries and ring-buffer records into Python values (see
:mod:`pybpf.trace.plan` for the value of each kind); this module turns them into text, or
into bpftrace's ``-f json`` lines. It never sees raw bytes and never touches the kernel.

Strings are bytes in bpftrace: ``%.1s`` may cut a UTF-8 character in half. Text here is
``str`` with undecodable bytes carried as surrogate escapes (``errors="surrogateescape"``);
:class:`Printer` writes them back as the bytes they were.

Facts this module reproduces (checked against bpftrace 0.17 by tests/trace/test_output*.py):

* maps print sorted by name at exit, after two empty lines; a map prints its entries joined
  by newlines, then a newline (two after avg/stats maps); an empty map prints only those;
* count/sum/min/max and plain integer maps sort by value, ascending; hist and lhist maps by
  the total of their buckets, avg and stats maps by their average (ties in key-byte order);
  other maps by key (integer keys compared unsigned, strings bytewise);
* ``print(@m, top, div)`` keeps the last ``top`` entries after sorting and divides values
  by ``div`` (C division, towards zero); stats maps ignore both, hist maps divide the counts
  but draw the bars from the undivided ones;
* printf hands each conversion that bpftrace's pattern recognises to C's printf with a
  64-bit argument, and copies everything else (``%%`` too) as it is.
"""

from __future__ import annotations

import struct
import time as _time

from .plan import Action, MapPlan, PrintPlan, ValueType

TYPE_CHECKING = False     # typing is not imported by `pybpf trace`'s start (.quickstart)
if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Iterable, Sequence
    from typing import IO, Any

__all__ = [
    "Printer", "format_value", "format_map", "format_map_json", "format_hist",
    "format_lhist", "format_printf", "printf_conversions", "format_time",
    "format_strftime", "format_join", "format_buf",
]

# One decoded map entry: the key's values (() for a map without keys) and the value as
# the aggregation decodes it (plan.py); entries come in the kernel's iteration order.
if TYPE_CHECKING:
    Entry = tuple[tuple[Any, ...], Any]

_BAR_WIDTH = 52
_U64 = (1 << 64) - 1

# ---------------------------------------------------------------------------------------
# scalars


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def format_buf(data: bytes) -> str:
    """A buf() value: printable ASCII as is, every other byte as ``\\xNN``."""
    return "".join(chr(b) if 32 <= b <= 126 else f"\\x{b:02x}" for b in data)


def _stack(frames: Sequence[str], indent: int, perf: bool = False) -> str:
    # no frames: the stack could not be read (bpftrace prints nothing then)
    if not frames:
        return ""
    pad = "\t" if perf else " " * indent      # perf mode: a tab, as perf script does
    return "\n" + "".join(f"{pad}{frame}\n" for frame in frames)


def _int(value: int, vt: ValueType) -> int:
    """An integer as bpftrace prints it: in the width and signedness of its type."""
    bits = 8 * vt.size if vt.size in (1, 2, 4, 8) else 64
    value &= (1 << bits) - 1
    if vt.signed and vt.kind == "int" and value >> (bits - 1):
        value -= 1 << bits
    return value


def decode_text(vt: ValueType, data: bytes) -> str:
    """The text of a value the kernel sends as a number or bytes and bpftrace prints as
    words: a ``macaddr()`` (6 bytes) or a ``cgroup_path()`` (a cgroup id)."""
    if vt.kind == "macaddr":
        return ":".join(f"{b:02X}" for b in data[:6])
    from .cgroups import cgroup_path

    return cgroup_path(int.from_bytes(data[:8], "little"), vt.fmt or "*")


def format_value(value: Any, vt: ValueType, *, indent: int = 8) -> str:
    """One decoded value as bpftrace's text output shows it (print(), map values/keys)."""
    kind = vt.kind
    if kind == "uaddr":             # a pointer as a map key
        return f"0x{int(value):x}"
    if kind in ("int", "uint", "kaddr"):
        return str(_int(int(value), vt))
    if kind == "bool":
        return "1" if value else "0"
    if kind in ("kstack", "ustack"):
        return _stack(value, indent, vt.fmt.startswith("perf"))
    if kind == "buf":
        return format_buf(value)
    if kind == "tuple":
        return "(" + ", ".join(format_value(v, f, indent=indent)
                               for v, f in zip(value, vt.fields)) + ")"
    if kind == "timestamp":
        return format_strftime(vt.fmt, int(value)) if isinstance(value, int) else str(value)
    if kind == "none":
        return ""
    return str(value)


# bpftrace's JSON output quotes these kinds and leaves every other value bare (even
# cgroup_path and strftime timestamps, which then are not valid JSON: as bpftrace does)
_QUOTED = {"str", "buf", "ksym", "usym", "kstack", "ustack", "inet", "username", "probe"}


_JSON_ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r",
                 ord("\t"): "\\t"}


def _json_escape(text: str) -> str:
    """bpftrace 0.17's escaping, byte by byte: control characters become \\u00XX, and so
    does every byte of a UTF-8 sequence (as a sign-extended char: \\uffffffc3)."""
    out = []
    for b in _bytes(text):
        if b in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[b])
        elif b < 0x20:
            out.append(f"\\u{b:04x}")
        elif b >= 0x80:
            out.append(f"\\u{b | 0xFFFFFF00:x}")
        else:
            out.append(chr(b))
    return "".join(out)


def _json_value(value: Any, vt: ValueType) -> str:
    if vt.kind == "tuple":
        return "[" + ",".join(_json_value(v, f) for v, f in zip(value, vt.fields)) + "]"
    text = format_value(value, vt)
    return f'"{_json_escape(text)}"' if vt.kind in _QUOTED else text


def _cdiv(a: int, b: int) -> int:
    """C's integer division: truncates towards zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


# ---------------------------------------------------------------------------------------
# histograms


def _hist_label(power: int) -> str:
    for shift, suffix in ((40, "T"), (30, "G"), (20, "M"), (10, "K")):
        if power >= shift:
            return f"{1 << (power - shift)}{suffix}"
    return str(1 << power)


def _lhist_label(number: int) -> str:
    if number == 0:
        return "0"
    if number % (1 << 20) == 0:
        return f"{number // (1 << 20)}M"
    if number % (1 << 10) == 0:
        return f"{number // (1 << 10)}K"
    return str(number)


def _f32(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


def _bar(count: int, peak: int) -> str:
    # bpftrace scales in single precision: count / (float)peak * 52, truncated
    width = int(_f32(_f32(_f32(float(count)) / _f32(float(peak))) * _BAR_WIDTH))
    return "@" * width


def _rows(labels: Iterable[tuple[str, int, int]], peak: int) -> str:
    return "".join(f"{label:<16}{shown:>8} |{_bar(count, peak):<{_BAR_WIDTH}}|\n"
                   for label, shown, count in labels)


def _hist_range(buckets: Sequence[int]) -> tuple[int, int, int]:
    used = [i for i, c in enumerate(buckets) if c > 0]
    return (used[0], used[-1], max(buckets)) if used else (-1, -1, 0)


def _hist_bucket(i: int) -> tuple[str, int | None, int | None]:
    """The text label and the JSON min/max of log2 bucket ``i`` (plan.py's numbering)."""
    if i == 0:
        return "(..., 0)", None, -1
    if i == 1:
        return "[0]", 0, 0
    if i == 2:
        return "[1]", 1, 1
    # bpftrace computes the JSON bounds in C int (1 << n, x86 masking the shift): from
    # bucket 33 on ([2G, 4G), where 0.17 puts every larger value) they wrap
    return (f"[{_hist_label(i - 2)}, {_hist_label(i - 1)})",
            _i32(1 << ((i - 2) % 32)), _i32(_i32(1 << ((i - 1) % 32)) - 1))


def _i32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


def format_hist(buckets: Sequence[int], div: int = 1) -> str:
    """A hist() value's rows, from the first to the last non-empty bucket."""
    first, last, peak = _hist_range(buckets)
    if last < 0:
        return ""
    return _rows(((_hist_bucket(i)[0], _cdiv(buckets[i], div or 1), buckets[i])
                  for i in range(first, last + 1)), peak)


def _lhist_bucket(i: int, lo: int, hi: int, step: int) -> tuple[str, int | None, int | None]:
    last = (hi - lo) // step + 1
    if i == 0:
        return f"(..., {_lhist_label(lo)})", None, lo - 1
    if i == last:
        return f"[{_lhist_label(hi)}, ...)", hi, None
    low = (i - 1) * step + lo
    return f"[{_lhist_label(low)}, {_lhist_label(low + step)})", low, low + step - 1


def _lhist_range(buckets: Sequence[int], lo: int, hi: int, step: int) -> tuple[int, int]:
    n = min(len(buckets), (hi - lo) // step + 2)
    used = [i for i in range(n) if buckets[i] > 0]
    return (used[0], used[-1]) if used else (-1, -1)


def format_lhist(buckets: Sequence[int], lo: int, hi: int, step: int) -> str:
    """An lhist() value's rows, from the first to the last non-empty bucket."""
    first, last = _lhist_range(buckets, lo, hi, step)
    if last < 0:
        return ""
    peak = max(buckets)
    return _rows(((_lhist_bucket(i, lo, hi, step)[0], buckets[i], buckets[i])
                  for i in range(first, last + 1)), peak)


def _hist_json(buckets: Sequence[int], div: int) -> str:
    first, last, _ = _hist_range(buckets)
    if last < 0:
        return ""
    rows = []
    for i in range(first, last + 1):
        _, low, high = _hist_bucket(i)
        rows.append(_json_bucket(low, high, _cdiv(buckets[i], div or 1)))
    return "[" + ", ".join(rows) + "]"


def _lhist_json(buckets: Sequence[int], lo: int, hi: int, step: int) -> str:
    first, last = _lhist_range(buckets, lo, hi, step)
    if last < 0:
        return ""
    rows = []
    for i in range(first, last + 1):
        _, low, high = _lhist_bucket(i, lo, hi, step)
        rows.append(_json_bucket(low, high, buckets[i]))
    return "[" + ", ".join(rows) + "]"


def _json_bucket(low: int | None, high: int | None, count: int) -> str:
    parts = []
    if low is not None:
        parts.append(f'"min": {low}')
    if high is not None:
        parts.append(f'"max": {high}')
    parts.append(f'"count": {count}')
    return "{" + ", ".join(parts) + "}"


# ---------------------------------------------------------------------------------------
# sorting, as bpftrace sorts (libstdc++'s std::sort, which is not stable, on the order it
# starts from: the kernel's iteration order, or key bytes for hist/avg/stats maps)


def _cxx_sort(items: list[Any], less: Callable[[Any, Any], bool]) -> None:
    """libstdc++'s std::sort (introsort, then insertion sort), step for step: equal
    elements end where bpftrace's own sort leaves them."""
    n = len(items)
    if n < 2:
        return

    def swap(i: int, j: int) -> None:
        items[i], items[j] = items[j], items[i]

    def linear_insert(last: int) -> None:
        val = items[last]
        nxt = last - 1
        while less(val, items[nxt]):
            items[last] = items[nxt]
            last = nxt
            nxt -= 1
        items[last] = val

    def insertion_sort(first: int, last: int) -> None:
        for i in range(first + 1, last):
            if less(items[i], items[first]):
                val = items[i]
                items[first + 1:i + 1] = items[first:i]
                items[first] = val
            else:
                linear_insert(i)

    def adjust_heap(first: int, hole: int, length: int, val: Any) -> None:
        top = hole
        child = hole
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if less(items[first + child], items[first + child - 1]):
                child -= 1
            items[first + hole] = items[first + child]
            hole = child
        if length % 2 == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            items[first + hole] = items[first + child - 1]
            hole = child - 1
        parent = (hole - 1) // 2
        while hole > top and less(items[first + parent], val):
            items[first + hole] = items[first + parent]
            hole = parent
            parent = (hole - 1) // 2
        items[first + hole] = val

    def heap_sort(first: int, last: int) -> None:
        length = last - first
        if length >= 2:
            parent = (length - 2) // 2
            while True:
                adjust_heap(first, parent, length, items[first + parent])
                if parent == 0:
                    break
                parent -= 1
        while last - first > 1:
            last -= 1
            val = items[last]
            items[last] = items[first]
            adjust_heap(first, 0, last - first, val)

    def median_to_first(result: int, a: int, b: int, c: int) -> None:
        if less(items[a], items[b]):
            if less(items[b], items[c]):
                swap(result, b)
            elif less(items[a], items[c]):
                swap(result, c)
            else:
                swap(result, a)
        elif less(items[a], items[c]):
            swap(result, a)
        elif less(items[b], items[c]):
            swap(result, c)
        else:
            swap(result, b)

    def partition(first: int, last: int, pivot: int) -> int:
        while True:
            while less(items[first], items[pivot]):
                first += 1
            last -= 1
            while less(items[pivot], items[last]):
                last -= 1
            if not first < last:
                return first
            swap(first, last)
            first += 1

    def introsort(first: int, last: int, depth: int) -> None:
        while last - first > 16:
            if depth == 0:
                heap_sort(first, last)
                return
            depth -= 1
            median_to_first(first, first + 1, first + (last - first) // 2, last - 1)
            cut = partition(first + 1, last, first)
            introsort(cut, last, depth)
            last = cut

    introsort(0, n, 2 * (n.bit_length() - 1))
    if n > 16:
        insertion_sort(0, 16)
        for i in range(16, n):
            linear_insert(i)
    else:
        insertion_sort(0, n)


def _key_bytes(values: tuple[Any, ...], types: tuple[ValueType, ...]) -> bytes:
    """The key as the kernel holds it, near enough to order keys as bpftrace's std::map
    (bytewise) does."""
    out = bytearray()
    for v, vt in zip(values, types):
        if vt.kind in ("int", "uint", "kaddr", "uaddr", "bool"):
            out += (int(v) & ((1 << (8 * vt.size)) - 1)).to_bytes(vt.size, "little")
        elif vt.kind == "tuple":
            out += _key_bytes(tuple(v), vt.fields)
        elif vt.kind == "buf":
            out += bytes(v)
        else:
            raw = _bytes(format_value(v, vt)) if not isinstance(v, str) else _bytes(v)
            out += raw[:vt.size].ljust(vt.size, b"\0")
    return bytes(out)


def _sort_by_key(entries: list[Entry], types: tuple[ValueType, ...]) -> None:
    # last key first, each a stable sort: the result is ordered by the first key
    for i in reversed(range(len(types))):
        vt = types[i]
        if vt.kind in ("int", "uint", "kaddr", "uaddr", "bool"):
            mask = (1 << (8 * vt.size)) - 1
            entries.sort(key=lambda e, i=i, mask=mask: int(e[0][i]) & mask)  # type: ignore[misc]
        elif vt.kind == "str":
            entries.sort(key=lambda e, i=i, n=vt.size: _bytes(e[0][i])[:n])  # type: ignore[misc]


def _sorted(plan: MapPlan, entries: Iterable[Entry]) -> list[Entry]:
    items = list(entries)
    agg = plan.aggregation
    if agg in ("hist", "lhist", "avg", "stats"):
        items.sort(key=lambda e: _key_bytes(e[0], plan.keys))
        if agg in ("hist", "lhist"):
            weights = [(sum(v), e) for e in items for v in (e[1],)]
        else:
            weights = [(_cdiv(v[1], v[0]) if v[0] else 0, e) for e in items for v in (e[1],)]
        _cxx_sort(weights, lambda a, b: a[0] < b[0])
        return [e for _, e in weights]
    if agg in ("count", "sum", "min", "max") or plan.value.kind in (
            "int", "uint", "kaddr", "uaddr", "bool"):
        vt = _agg_type(plan)
        values = [(_int(int(e[1]), vt), e) for e in items]
        _cxx_sort(values, lambda a, b: a[0] < b[0])
        return [e for _, e in values]
    _sort_by_key(items, plan.keys)
    return items


def _agg_type(plan: MapPlan) -> ValueType:
    """The integer type a map's values print in."""
    if plan.aggregation == "count":
        return ValueType("uint")
    if plan.aggregation in ("sum", "min", "max"):
        return ValueType("int", 8, signed=plan.value.signed) if plan.value.kind == "int" \
            else ValueType("uint")
    return plan.value


def _top(items: list[Entry], top: int) -> list[Entry]:
    return items[len(items) - top:] if top and len(items) > top else items


# ---------------------------------------------------------------------------------------
# maps


def _key_text(plan: MapPlan, key: tuple[Any, ...]) -> str:
    if not plan.keys:
        return plan.name
    return plan.name + "[" + ", ".join(format_value(v, vt, indent=4)
                                       for v, vt in zip(key, plan.keys)) + "]"


def _value_text(plan: MapPlan, value: Any, div: int) -> str:
    agg = plan.aggregation
    div = div or 1
    if agg == "hist":
        return format_hist(value, div)
    if agg == "lhist":
        lo, hi, step = plan.lhist or (0, 0, 1)
        return format_lhist(value, lo, hi, step)
    if agg == "stats":
        count, total = value
        avg = _cdiv(total, count) if count else 0
        return f"count {count}, average {avg}, total {total}"
    if agg == "avg":
        count, total = value
        return str(_cdiv(_cdiv(total, count) if count else 0, div))
    if agg == "none" and plan.value.kind not in ("int", "uint", "kaddr", "uaddr", "bool"):
        return format_value(value, plan.value)
    return str(_cdiv(_int(int(value), _agg_type(plan)), div))


def _counted(plan: MapPlan, entries: Iterable[Entry]) -> list[Entry]:
    """The entries, with the 0 bpftrace 0.17 shows for a count() map without keys that
    has none (never counted, or cleared)."""
    items = list(entries)
    if not items and plan.aggregation == "count" and not plan.keys:
        return [((), 0)]
    return items


def format_map(plan: MapPlan, entries: Iterable[Entry], top: int = 0, div: int = 1) -> str:
    """A map as bpftrace's print(@m, top, div) and exit print it, trailing newlines and all.

    ``entries`` are (key values, decoded value) in the order the kernel iterates them.
    """
    agg = plan.aggregation
    if agg == "stats":
        top, div = 0, 1
    items = _top(_sorted(plan, _counted(plan, entries)), top)
    lines = []
    for key, value in items:
        text = _value_text(plan, value, div)
        sep = "\n" if agg in ("hist", "lhist") else ""
        lines.append(f"{_key_text(plan, key)}: {sep}{text}")
    # stack, symbol and address values end in their own newline or run on, as in bpftrace
    joiner = "" if agg == "none" and plan.value.kind in (
        "kstack", "ustack", "ksym", "usym", "inet") else "\n"
    tail = "\n\n" if agg in ("avg", "stats") else "\n"
    return joiner.join(lines) + tail


def format_map_json(plan: MapPlan, entries: Iterable[Entry], top: int = 0,
                    div: int = 1) -> str:
    """A map as one bpftrace ``-f json`` line (with its newline); "" for an empty map."""
    agg = plan.aggregation
    if agg == "stats":
        top, div = 0, 1
    items = _top(_sorted(plan, _counted(plan, entries)), top)
    if not items:
        return ""
    kind = {"hist": "hist", "lhist": "hist", "avg": "stats", "stats": "stats"}.get(agg, "map")
    elems = []
    for key, value in items:
        if agg == "hist":
            text = _hist_json(value, div)
        elif agg == "lhist":
            lo, hi, step = plan.lhist or (0, 0, 1)
            text = _lhist_json(value, lo, hi, step)
        elif agg == "stats":
            count, total = value
            avg = _cdiv(total, count) if count else 0
            text = f'{{"count": {count}, "average": {avg}, "total": {total}}}'
        elif agg == "none" and plan.value.kind not in ("int", "uint", "kaddr", "uaddr", "bool"):
            text = _json_value(value, plan.value)
        else:
            text = _value_text(plan, value, div)
        if plan.keys:
            joined = ",".join(format_value(v, vt, indent=4) for v, vt in zip(key, plan.keys))
            text = f'"{_json_escape(joined)}": {text}'
        elems.append(text)
    body = ", ".join(elems)
    if plan.keys:
        body = "{" + body + "}"
    return f'{{"type": "{kind}", "data": {{"{_json_escape(plan.name)}": {body}}}}}\n'


# ---------------------------------------------------------------------------------------
# printf, time, join

# The conversions bpftrace 0.17 recognises in a printf format: "-", digits, a precision,
# then one of these. Each is handed to C's printf together with the text since the previous
# one (so a "%%" there prints "%"); the text after the last is copied as it is ("%%" stays).
_LENGTHS = ("", "hh", "h", "l", "ll", "j", "z", "t")
_CONVERSIONS = ["s", "r", "rx", "rh", "c"] + [f"{n}{c}" for n in _LENGTHS for c in "duxXpo"]
_SPEC_TEXT = r"%(-?)([0-9]*)(\.[0-9]+)?(" + "|".join(
    sorted(_CONVERSIONS, key=len, reverse=True)) + ")"
# a conversion as C's printf reads one, for the text bpftrace hands it before its own
_C_SPEC_TEXT = r"%[-+ #0]*[0-9]*(?:\.[0-9]*)?(?:hh|h|ll|l|j|z|t|L|q)?[A-Za-z%]"
_patterns: list[re.Pattern[str]] = []


def _spec() -> re.Pattern[str]:
    """bpftrace's conversions, compiled on first use: a script whose formats have no
    ``%`` starts without importing re (~2 ms of `pybpf trace`'s start)."""
    if not _patterns:
        import re

        _patterns.extend((re.compile(_SPEC_TEXT), re.compile(_C_SPEC_TEXT)))
    return _patterns[0]


_BITS = {"": 32, "hh": 8, "h": 16, "l": 64, "ll": 64, "j": 64, "z": 64, "t": 64}


def printf_conversions(fmt: str) -> list[str]:
    """The conversions of a printf format that take an argument, in order (``"d"``,
    ``"s"``, ``"llx"``...): what bpftrace counts against the arguments."""
    return [m.group(4) for m in _spec().finditer(fmt)] if "%" in fmt else []


def _pad(text: bytes, left: bool, width: str, zero: bool = False) -> bytes:
    if not width or len(text) >= int(width):
        return text
    fill = int(width) - len(text)
    if left:
        return text + b" " * fill
    if zero:
        sign = text[:1] if text[:1] in (b"-", b"+") else b""
        digits = text[len(sign):]
        if digits[:2] in (b"0x", b"0X"):
            return sign + digits[:2] + b"0" * fill + digits[2:]
        return sign + b"0" * fill + digits
    return b" " * fill + text


def _conversion(m: re.Match[str], arg: Any) -> bytes:
    left, width, prec, conv = m.group(1) == "-", m.group(2), m.group(3), m.group(4)
    if conv == "s":
        if isinstance(arg, bytes | bytearray):
            arg = format_buf(bytes(arg))
        raw = _bytes(arg) if isinstance(arg, str) else _bytes(str(arg))
        if prec:
            raw = raw[:int(prec[1:] or 0)]
        return _pad(raw, left, width)
    if conv in ("r", "rx", "rh"):
        # bpftrace turns "%r" into "%s" before formatting; with a width or precision the
        # conversion is unknown to C's printf and printed as it stands
        if not m.group(0).startswith("%" + conv):
            return _bytes(m.group(0))
        data = _bytes(arg) if isinstance(arg, str) else bytes(arg)
        if conv == "rx":
            return "".join(f"\\x{b:02x}" for b in data).encode()
        if conv == "rh":
            return " ".join(f"{b:02x}" for b in data).encode()
        return data if isinstance(arg, str) else _bytes(format_buf(data))
    value = int(arg) & _U64
    if conv == "c":
        return _pad(bytes([value & 0xFF]), left, width)
    length, spec = conv[:-1], conv[-1]
    if spec == "p":
        text = b"(nil)" if value == 0 else b"0x%x" % value
        return _pad(text, left, width)
    bits = _BITS[length]
    value &= (1 << bits) - 1
    if spec == "d" and value >> (bits - 1):
        value -= 1 << bits
    digits = {"d": "%d", "u": "%d", "x": "%x", "X": "%X", "o": "%o"}[spec] % abs(value)
    if prec:
        want = int(prec[1:] or 0)
        digits = "" if want == 0 and value == 0 else digits.rjust(want, "0")
    number = (("-" if value < 0 else "") + digits).encode()
    # C ignores the 0 flag when a precision is given or the output is left-aligned
    zero = width.startswith("0") and not prec and not left
    return _pad(number, left, width.lstrip("0") if zero else width, zero)


def _c_piece(piece: str, start: int, m: re.Match[str], arg: Any) -> bytes:
    """What C's printf prints for ``piece``: text, then bpftrace's conversion ``m`` at
    ``start``. A ``%%`` before it prints ``%`` (and may swallow the conversion's own ``%``,
    leaving the rest as text); other conversions in the text would read arguments that were
    never passed (bpftrace prints garbage there): they are kept as text."""
    out = bytearray()
    i = 0
    while i < len(piece):
        if i == start:
            return bytes(out + _conversion(m, arg))
        if piece[i] != "%":
            j = piece.find("%", i)
            j = len(piece) if j < 0 else j
            j = min(j, start) if i < start else j
            out += _bytes(piece[i:j])
            i = j
            continue
        c = _patterns[1].match(piece, i)       # compiled: piece holds a conversion
        if c is None:
            out += b"%"
            i += 1
        elif c.group().endswith("%"):
            out += b"%"
            i = c.end()
        else:
            out += _bytes(c.group())
            i = c.end()
    return bytes(out)


def format_printf(fmt: str, args: Sequence[Any], types: Sequence[ValueType] = ()) -> str:
    """printf(fmt, args...) as bpftrace formats it. Arguments are decoded values; a value
    of a kind printed as text (stacks, symbols, tuples) is formatted first."""
    if "%" not in fmt:
        return _text(_bytes(fmt))
    out = bytearray()
    pos = 0
    for i, m in enumerate(_spec().finditer(fmt)):
        arg = args[i]
        if i < len(types) and types[i].kind not in ("int", "uint", "kaddr", "uaddr", "bool",
                                                    "str", "buf"):
            if m.group(4) == "s" or m.group(4).startswith("r"):
                arg = format_value(arg, types[i])
        piece = _c_piece(fmt[pos:m.end()], m.start() - pos, m, arg)
        # bpftrace keeps each piece up to a NUL byte (a %c of 0)
        out += piece.split(b"\0", 1)[0]
        pos = m.end()
    out += _bytes(fmt[pos:])
    return _text(bytes(out))


def format_strftime(fmt: str, nsecs: int) -> str:
    """A strftime() timestamp (nanoseconds since the epoch), in local time; ``%f`` is the
    microseconds, as bpftrace adds."""
    usecs = f"{(nsecs % 1_000_000_000) // 1000:06d}"
    return _time.strftime(fmt.replace("%f", usecs), _time.localtime(nsecs // 1_000_000_000))


def format_time(fmt: str = "%H:%M:%S\n", now: float | None = None) -> str:
    """time(fmt): the wall clock now, in local time (no ``%f`` here, as in bpftrace)."""
    return _time.strftime(fmt, _time.localtime(now))


def format_join(parts: Sequence[str], sep: str = " ") -> str:
    """join(arr, sep) without its newline: the strings up to the first empty one (an
    unreadable or missing element reads as empty)."""
    kept = []
    for part in parts:
        if not part:
            break
        kept.append(part)
    return sep.join(kept)


# ---------------------------------------------------------------------------------------
# the writer


class Printer:
    """Writes a script's output to ``stream`` as bpftrace does, text or ``-f json``.

    The runtime calls one method per thing bpftrace prints; each write is flushed, so a
    pipe sees events as they come.
    """

    def __init__(self, plan: PrintPlan, stream: IO[Any], *, json: bool = False) -> None:
        self.plan = plan
        self.stream = stream
        self.json = json

    def write(self, text: str) -> None:
        # a text stream over bytes (stdout, a file) gets the bytes the script printed,
        # surrogate escapes and all; a plain text stream (io.StringIO) gets the text
        buffer = getattr(self.stream, "buffer", None)
        if buffer is not None:
            self.stream.flush()
            buffer.write(_bytes(text))
            buffer.flush()
        else:
            self.stream.write(text)
            self.stream.flush()

    def _message(self, kind: str, text: str, newline: bool = False) -> None:
        if self.json:
            self.write(f'{{"type": "{kind}", "data": "{_json_escape(text)}"}}\n')
        else:
            self.write(text + ("\n" if newline else ""))

    def attached(self, probes: int) -> None:
        """``Attaching N probes...``, once every probe is attached."""
        if self.json:
            self.write(f'{{"type": "attached_probes", "data": {{"probes": {probes}}}}}\n')
        else:
            self.write(f"Attaching {probes} probe{'' if probes == 1 else 's'}...\n")

    def lost(self, events: int) -> None:
        if self.json:
            self.write(f'{{"type": "lost_events", "data": {{"events": {events}}}}}\n')
        else:
            self.write(f"Lost {events} events\n")

    def printf(self, action: Action, values: Sequence[Any]) -> None:
        self._message("printf", format_printf(action.fmt, values, action.args))

    def time(self, action: Action, now: float | None = None) -> None:
        self._message("time", format_time(action.fmt or "%H:%M:%S\n", now))

    def join(self, action: Action, parts: Sequence[str]) -> None:
        self._message("join", format_join(parts, action.fmt or " "), newline=True)

    def cat(self, text: str) -> None:
        self._message("cat", text)

    def system(self, text: str) -> None:
        self._message("syscall", text)

    def value(self, value: Any, vt: ValueType) -> None:
        """print(expr) of a value that is not a map."""
        if self.json:
            self.write(f'{{"type": "value", "data": {_json_value(value, vt)}}}\n')
        else:
            self.write(format_value(value, vt) + "\n")

    def map(self, name: str, entries: Iterable[Entry], top: int = 0, div: int = 1) -> None:
        """print(@m, top, div), and each map at exit."""
        plan = self.plan.maps[name]
        if self.json:
            self.write(format_map_json(plan, entries, top, div))
        else:
            self.write(format_map(plan, entries, top, div))

    def exit(self, maps: dict[str, Iterable[Entry]]) -> None:
        """The end of a run: two empty lines, then the maps of ``print_at_exit`` (the
        runtime passes their entries by name)."""
        self.write("\n\n")
        for name in self.plan.print_at_exit:
            self.map(name, maps.get(name, ()))

    def action(self, action: Action, values: Sequence[Any]) -> None:
        """Print what a ring-buffer record asks for, when it is text the record carries
        (printf, time, join, print of a value); maps, cat, system and exit need the
        runtime and go through their own methods."""
        if action.kind == "printf":
            self.printf(action, values)
        elif action.kind == "time":
            self.time(action)
        elif action.kind == "join":
            self.join(action, values[0] if len(values) == 1 and not isinstance(
                values[0], str) else values)
        elif action.kind == "print_value":
            self.value(values[0], action.args[0])
        else:
            raise ValueError(f"{action.kind} records are printed by the runtime")
