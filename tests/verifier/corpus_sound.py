"""Hand-written cases for the verifier's soundness classes: each is a way an unsafe program
could slip through (map rights, one instruction seeing two pointer types, legacy loads in
functions, NULL memory arguments, stale packet pointers, misaligned atomics), next to the
close variant the kernel accepts. Registered into :data:`tests.verifier.corpus.CASES`, so
the kernel-agreement test loads each one for real.
"""

from __future__ import annotations

from pybpf import asm
from pybpf import btf as _btf
from pybpf.asm import R0, R1, R2, R3, R4, R5, R6, R7, R10, Instruction, Label
from pybpf.btf.ext import FuncInfo
from pybpf.spec import MapSpec, MapType, ProgramType

from .corpus import ALL_MAPS, CASES, RET0, Case, case

RDONLY_PROG = 1 << 7
WRONLY_PROG = 1 << 8

for spec in (MapSpec("ro", MapType.ARRAY, 4, 16, 1, flags=RDONLY_PROG),
             MapSpec("wo", MapType.ARRAY, 4, 16, 1, flags=WRONLY_PROG),
             MapSpec("outer", MapType.ARRAY_OF_MAPS, 4, 4, 1,
                     inner_map=MapSpec("inner", MapType.ARRAY, 4, 8, 1))):
    ALL_MAPS[spec.name] = spec

XDP = ProgramType.XDP
TC = ProgramType.SCHED_CLS
SOCK = ProgramType.SOCKET_FILTER


def lookup(m: str) -> list:
    """r0 = bpf_map_lookup_elem(&m, &(u32)0); on NULL return 0 (falls through when found)."""
    return [asm.st(4, R10, 0, -4), asm.ld_map_fd(R1, m), asm.mov_reg(R2, R10),
            asm.add(R2, -4), asm.call(1), asm.jne(R0, 0, 2), *RET0]


# -- map rights (BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG) -----------------------------------------
for m, read_ok, write_ok in (("arr", True, True), ("ro", True, False), ("wo", False, True)):
    case(f"map rights {m}: load from value", "accept" if read_ok else "reject",
         [*lookup(m), asm.ldx(8, R0, R0, 0), *RET0[1:]])
    case(f"map rights {m}: store into value", "accept" if write_ok else "reject",
         [*lookup(m), asm.st(8, R0, 1, 0), *RET0])
    case(f"map rights {m}: atomic add on value", "accept" if read_ok and write_ok else "reject",
         [*lookup(m), asm.mov(R1, 1), asm.atomic_add(8, R0, R1, 0), *RET0])
    # bpf_probe_read_kernel writes the value; bpf_map_update_elem reads it (as its value)
    case(f"map rights {m}: helper writes into value", "accept" if write_ok else "reject",
         [*lookup(m), asm.mov_reg(R1, R0), asm.mov(R2, 8), asm.mov(R3, 0), asm.call(113),
          *RET0], ProgramType.KPROBE)
    case(f"map rights {m}: helper reads value", "accept" if read_ok else "reject",
         [*lookup(m), asm.mov_reg(R3, R0), asm.ld_map_fd(R1, "arr"), asm.mov_reg(R2, R10),
          asm.add(R2, -4), asm.mov(R4, 0), asm.call(2), *RET0])
    case(f"map rights {m}: update the map", "accept" if write_ok else "reject",
         [asm.st(4, R10, 0, -4), asm.st(8, R10, 0, -24), asm.st(8, R10, 0, -16),
          asm.ld_map_fd(R1, m), asm.mov_reg(R2, R10), asm.add(R2, -4), asm.mov_reg(R3, R10),
          asm.add(R3, -24), asm.mov(R4, 0), asm.call(2), *RET0])

# -- one load/store instruction, two pointer types on two paths --------------------------------
_CTX_OR_STACK = [asm.st(8, R10, 0, -8), asm.mov_reg(R2, R1), asm.ldx(4, R3, R1, 0),
                 asm.jeq(R3, 0, 2), asm.mov_reg(R2, R10), asm.add(R2, -8)]
case("same insn: load from ctx or stack", "reject", [*_CTX_OR_STACK, asm.ldx(4, R0, R2, 0),
                                                     *RET0[1:]])
case("same insn: store to ctx or stack", "reject",
     [asm.st(8, R10, 0, -56), *_CTX_OR_STACK[1:-1], asm.add(R2, -56), asm.st(4, R2, 0, 48),
      *RET0], SOCK)
case("same insn: load from stack or map value", "accept",
     [*lookup("arr"), asm.st(8, R10, 0, -16), asm.mov_reg(R6, R0), asm.call(7),
      asm.jeq(R0, 0, 2), asm.mov_reg(R6, R10), asm.add(R6, -16), asm.ldx(8, R0, R6, 0),
      *RET0[1:]])
case("same insn: separate loads for ctx and stack", "accept",
     [*_CTX_OR_STACK[:4], asm.ldx(4, R0, R2, 0), asm.exit(), asm.mov_reg(R2, R10),
      asm.add(R2, -8), asm.ldx(4, R0, R2, 0), asm.exit()])

# -- legacy packet loads and tail calls inside functions (no BTF) --------------------------------
case("ld_abs in main", "accept", [asm.mov_reg(R6, R1), asm.ld_abs(1, 0), asm.exit()])
case("ld_abs in a subprog without btf", "reject",
     [asm.mov_reg(R6, R1), asm.call_func("f"), asm.exit(), asm.label("f"), asm.ld_abs(1, 0),
      asm.exit()])
case("ld_ind in a subprog without btf", "reject",
     [asm.mov_reg(R6, R1), asm.mov(R7, 2), asm.call_func("f"), asm.exit(), asm.label("f"),
      asm.ld_ind(1, R7, 0), asm.exit()])
case("tail call in a subprog without btf", "reject",
     [asm.mov_reg(R6, R1), asm.call_func("f"), *RET0, asm.label("f"), asm.mov_reg(R1, R6),
      asm.ld_map_fd(R2, "progs"), asm.mov(R3, 0), asm.call(12), *RET0])
case("tail call in main", "accept",
     [asm.ld_map_fd(R2, "progs"), asm.mov(R3, 0), asm.call(12), *RET0])

# -- maps of maps, NULL memory arguments ---------------------------------------------------------
_OUTER = lookup("outer")
case("map in map: inner lookup after null check", "accept",
     [*_OUTER, asm.mov_reg(R1, R0), asm.mov_reg(R2, R10), asm.add(R2, -4), asm.call(1),
      *RET0])
case("map in map: inner map used without null check", "reject",
     [asm.st(4, R10, 0, -4), asm.ld_map_fd(R1, "outer"), asm.mov_reg(R2, R10),
      asm.add(R2, -4), asm.call(1), asm.mov_reg(R1, R0), asm.mov_reg(R2, R10),
      asm.add(R2, -4), asm.call(1), *RET0])
case("csum_diff NULL with size 0", "accept",
     [asm.mov(R1, 0), asm.mov(R2, 0), asm.mov(R3, 0), asm.mov(R4, 0), asm.mov(R5, 0),
      asm.call(28), *RET0], TC)
case("csum_diff NULL with size 4", "reject",
     [asm.mov(R1, 0), asm.mov(R2, 4), asm.mov(R3, 0), asm.mov(R4, 0), asm.mov(R5, 0),
      asm.call(28), *RET0], TC)
case("csum_diff scalar buffer with size 0", "reject",
     [asm.mov(R1, 8), asm.mov(R2, 0), asm.mov(R3, 0), asm.mov(R4, 0), asm.mov(R5, 0),
      asm.call(28), *RET0], TC)
case("ringbuf_output of a maybe-NULL value with size 0", "reject",
     [asm.st(8, R10, 0, -8), asm.ld_map_fd(R1, "hash"), asm.mov_reg(R2, R10), asm.add(R2, -8),
      asm.call(1), asm.mov_reg(R2, R0), asm.ld_map_fd(R1, "rb"), asm.mov(R3, 0),
      asm.mov(R4, 0), asm.call(130), *RET0])
case("ringbuf_output of NULL", "reject",
     [asm.ld_map_fd(R1, "rb"), asm.mov(R2, 0), asm.mov(R3, 8), asm.mov(R4, 0), asm.call(130),
      *RET0])

# -- packet pointers: helpers that may not take them, helpers that move the packet ---------------
_XDP_PKT8 = [asm.ldx(4, R2, R1, 0), asm.ldx(4, R3, R1, 4), asm.mov_reg(R6, R1),
             asm.mov_reg(R7, R2), asm.mov_reg(R4, R2), asm.add(R4, 8), asm.jgt(R4, R3, "out")]
_OUT = [asm.label("out"), asm.mov(R0, 2), asm.exit()]
case("xdp: packet as ringbuf_output data", "reject",
     [*_XDP_PKT8, asm.ld_map_fd(R1, "rb"), asm.mov_reg(R2, R7), asm.mov(R3, 8), asm.mov(R4, 0),
      asm.call(130), *_OUT], XDP)
case("xdp: packet as map lookup key", "accept",
     [*_XDP_PKT8, asm.ld_map_fd(R1, "hash"), asm.mov_reg(R2, R7), asm.call(1), *_OUT], XDP)
case("xdp: packet as csum_diff buffer", "accept",
     [*_XDP_PKT8, asm.mov_reg(R1, R7), asm.mov(R2, 8), asm.mov(R3, 0), asm.mov(R4, 0),
      asm.mov(R5, 0), asm.call(28), *_OUT], XDP)
case("xdp: packet read after adjust_head", "reject",
     [*_XDP_PKT8, asm.mov_reg(R1, R6), asm.mov(R2, 4), asm.call(44), asm.ldx(1, R0, R7, 0),
      *_OUT], XDP)
case("xdp: packet reread after adjust_head", "accept",
     [*_XDP_PKT8, asm.mov_reg(R1, R6), asm.mov(R2, 4), asm.call(44), asm.ldx(4, R2, R6, 0),
      asm.ldx(4, R3, R6, 4), asm.mov_reg(R4, R2), asm.add(R4, 1), asm.jgt(R4, R3, "out"),
      asm.ldx(1, R0, R2, 0), *_OUT], XDP)
_TC_PKT8 = [asm.ldx(4, R2, R1, 76), asm.ldx(4, R3, R1, 80), asm.mov_reg(R6, R1),
            asm.mov_reg(R7, R2), asm.mov_reg(R4, R2), asm.add(R4, 8), asm.jgt(R4, R3, "out")]
_TC_OUT = [asm.label("out"), asm.mov(R0, 0), asm.exit()]
for helper, name, args in ((39, "skb_pull_data", [asm.mov(R2, 0)]),
                           (38, "skb_change_tail", [asm.mov(R2, 64), asm.mov(R3, 0)]),
                           (43, "skb_change_head", [asm.mov(R2, 0), asm.mov(R3, 0)]),
                           (31, "skb_change_proto", [asm.mov(R2, 0), asm.mov(R3, 0)]),
                           (19, "skb_vlan_pop", []),
                           (50, "skb_adjust_room", [asm.mov(R2, 0), asm.mov(R3, 0),
                                                    asm.mov(R4, 0)])):
    case(f"tc: packet read after {name}", "reject",
         [*_TC_PKT8, asm.mov_reg(R1, R6), *args, asm.call(helper), asm.ldx(1, R0, R7, 0),
          *_TC_OUT], TC)
case("tc: spilled packet pointer read after skb_pull_data", "reject",
     [*_TC_PKT8, asm.stx(8, R10, R7, -8), asm.mov_reg(R1, R6), asm.mov(R2, 0), asm.call(39),
      asm.ldx(8, R7, R10, -8), asm.ldx(1, R0, R7, 0), *_TC_OUT], TC)
case("tc: packet read after a tail call that returned (it failed: nothing moved)", "accept",
     [*_TC_PKT8, asm.mov_reg(R1, R6), asm.ld_map_fd(R2, "progs"), asm.mov(R3, 0),
      asm.call(12), asm.ldx(1, R0, R7, 0), *_TC_OUT], TC)
case("tc: packet read after get_prandom", "accept",
     [*_TC_PKT8, asm.call(7), asm.ldx(1, R0, R7, 0), *_TC_OUT], TC)

# -- atomics are always checked for alignment ----------------------------------------------------
for size in (4, 8):
    for off in (0, size, 1, 2, 4):
        ok = off % size == 0
        case(f"atomic add u{size * 8} on map value at {off}", "accept" if ok else "reject",
             [*lookup("arr"), asm.mov(R1, 1), asm.atomic_add(size, R0, R1, off), *RET0])
    case(f"atomic add u{size * 8} on stack at -{size + 1}", "reject",
         [asm.st(8, R10, 0, -16), asm.mov(R1, 1), asm.atomic_add(size, R10, R1, -size - 1),
          *RET0])
case("store u32 on map value at 2 (not atomic)", "accept", [*lookup("arr"),
                                                           asm.st(4, R0, 1, 2), *RET0])
_VAR_STACK = [asm.st(8, R10, 0, -16), asm.st(8, R10, 0, -8), asm.ldx(4, R2, R1, 0),
              asm.mov_reg(R3, R10), asm.add(R3, -16)]
case("stack store u32 at a variable offset that may be misaligned", "reject",
     [*_VAR_STACK, asm.and_(R2, 7), asm.add(R3, R2), asm.st(4, R3, 1, 0), *RET0])
case("stack store u32 at a variable offset aligned to 4", "accept",
     [*_VAR_STACK, asm.and_(R2, 4), asm.add(R3, R2), asm.st(4, R3, 1, 0), *RET0])

# -- global functions: verified on their own, from their BTF prototype -------------------------


_INT = _btf.Int("int", 4, _btf.SIGNED)
_LONG = _btf.Int("long", 8, _btf.SIGNED)
_SKB = _btf.Struct("__sk_buff", 0)


def _func(name: str, params: list, *, static: bool = False, ret: _btf.Type = _INT
          ) -> _btf.Func:
    proto = _btf.FuncProto(ret, [_btf.Param(f"a{i}", t) for i, t in enumerate(params)])
    return _btf.Func(name, proto, _btf.FuncLinkage.STATIC if static else
                     _btf.FuncLinkage.GLOBAL)


def btf_case(name: str, expect: str, insns: list, funcs: dict[str, _btf.Func],
             prog_type: ProgramType = SOCK, tags: tuple[tuple[str, str, int], ...] = ()
             ) -> None:
    """A case with BTF func_info: ``funcs`` maps "main" and each function's label to its
    BTF Func; ``tags`` are (tag, function label, argument index) decl tags."""
    builder = _btf.Builder()
    main = _func("main", [_btf.Ptr(_btf.Void())])
    everything = {"main": main, **funcs}
    for f in everything.values():
        builder.add(f)
    for tag, fname, idx in tags:
        builder.add(_btf.DeclTag(tag, everything[fname], idx))
    spec = _btf.Spec.from_bytes(builder.encode())
    parsed = {t.name: t for t in spec if isinstance(t, _btf.Func)}
    slots = {"main": 0}
    slot = 0
    for item in insns:
        if isinstance(item, Label):
            slots[item.name] = slot
        elif isinstance(item, Instruction):
            slot += item.slots
    records = sorted((FuncInfo(slots[label], parsed[f.name]) for label, f in
                      everything.items()), key=lambda r: r.insn_off)
    c = Case(name, insns, expect, prog_type, btf=spec, func_info=records)
    CASES.append(c)


_G_INT = {"g": _func("g", [_INT])}
_CALL_G = [asm.call_func("g"), asm.exit(), asm.label("g")]
btf_case("global func: scalar argument", "accept",
         [asm.mov(R1, 3), *_CALL_G, asm.mov_reg(R0, R1), asm.exit()], _G_INT)
btf_case("global func: pointer passed as a scalar", "reject",
         [asm.mov_reg(R1, R10), *_CALL_G, asm.mov(R0, 0), asm.exit()], _G_INT)
# inline, the caller's r1 = 0 would make the stack access safe; on its own, x is any int
_STACK_AT_X = [asm.st(8, R10, 0, -8), asm.mov_reg(R2, R10), asm.add(R2, -8),
               asm.add(R2, R1), asm.ldx(1, R0, R2, 0), asm.exit()]
btf_case("global func: judged by its prototype, not the caller's value", "reject",
         [asm.mov(R1, 0), *_CALL_G, *_STACK_AT_X], _G_INT)
btf_case("static func: judged with the caller's value", "accept",
         [asm.mov(R1, 0), *_CALL_G, *_STACK_AT_X], {"g": _func("g", [_INT], static=True)})
btf_case("global func: bounded by itself", "accept",
         [asm.mov(R1, 0), *_CALL_G, asm.and_(R1, 7), *_STACK_AT_X], _G_INT)
_G_CTX = {"g": _func("g", [_btf.Ptr(_SKB)])}
btf_case("global func: context argument", "accept",
         [*_CALL_G, asm.ldx(4, R0, R1, 0), asm.exit()], _G_CTX)
btf_case("global func: stack pointer for a context argument", "reject",
         [asm.mov_reg(R1, R10), *_CALL_G, asm.mov(R0, 0), asm.exit()], _G_CTX)
_G_PTR = {"g": _func("g", [_btf.Ptr(_LONG)])}
_ARG_ON_STACK = [asm.st(8, R10, 5, -8), asm.mov_reg(R1, R10), asm.add(R1, -8)]
btf_case("global func: pointer argument may be NULL", "reject",
         [*_ARG_ON_STACK, *_CALL_G, asm.ldx(8, R0, R1, 0), asm.exit()], _G_PTR)
btf_case("global func: pointer argument checked for NULL", "accept",
         [*_ARG_ON_STACK, *_CALL_G, asm.mov(R0, 0), asm.jeq(R1, 0, 1), asm.ldx(8, R0, R1, 0),
          asm.exit()], _G_PTR)
btf_case("global func: nonnull pointer argument", "accept",
         [*_ARG_ON_STACK, *_CALL_G, asm.ldx(8, R0, R1, 0), asm.exit()], _G_PTR,
         tags=(("arg:nonnull", "g", 0),))
btf_case("global func: read past a pointer argument", "reject",
         [*_ARG_ON_STACK, *_CALL_G, asm.mov(R0, 0), asm.jeq(R1, 0, 1), asm.ldx(8, R0, R1, 8),
          asm.exit()], _G_PTR)
btf_case("global func: caller's buffer too small", "reject",
         [asm.st(4, R10, 5, -4), asm.mov_reg(R1, R10), asm.add(R1, -4), *_CALL_G,
          asm.mov(R0, 0), asm.exit()], _G_PTR)
btf_case("global func: NULL for a nullable pointer", "accept",
         [asm.mov(R1, 0), *_CALL_G, asm.mov(R0, 0), asm.exit()], _G_PTR)
btf_case("global func: maybe-NULL value for a nonnull pointer", "reject",
         [asm.st(8, R10, 0, -8), asm.ld_map_fd(R1, "hash"), asm.mov_reg(R2, R10),
          asm.add(R2, -8), asm.call(1), asm.mov_reg(R1, R0), *_CALL_G, asm.ldx(8, R0, R1, 0),
          asm.exit()], _G_PTR, tags=(("arg:nonnull", "g", 0),))
btf_case("global func: returns a pointer", "reject",
         [asm.mov(R1, 1), *_CALL_G, asm.mov_reg(R0, R10), asm.exit()], _G_INT)
btf_case("global func: returns void", "reject",
         [asm.mov(R1, 1), *_CALL_G, asm.mov(R0, 0), asm.exit()],
         {"g": _func("g", [_INT], ret=_btf.Void())})
btf_case("global func: caller's registers after the call", "reject",
         [asm.mov(R1, 1), asm.mov(R2, 2), asm.call_func("g"), asm.mov_reg(R0, R2), asm.exit(),
          asm.label("g"), asm.mov(R0, 0), asm.exit()], _G_INT)
_G_TC = {"g": _func("g", [_btf.Ptr(_SKB)])}
btf_case("global func: caller's packet pointer after a call that changes the packet",
         "reject",
         [*_TC_PKT8, asm.mov_reg(R1, R6), asm.call_func("g"), asm.ldx(1, R0, R7, 0), *_TC_OUT,
          asm.label("g"), asm.mov(R2, 0), asm.mov(R3, 0), asm.mov(R4, 0), asm.mov(R5, 0),
          asm.call(10), asm.mov(R0, 0), asm.exit()], _G_TC, TC)
btf_case("global func: caller's packet pointer after a call that leaves the packet",
         "accept",
         [*_TC_PKT8, asm.mov_reg(R1, R6), asm.call_func("g"), asm.ldx(1, R0, R7, 0), *_TC_OUT,
          asm.label("g"), asm.call(7), asm.mov(R0, 0), asm.exit()], _G_TC, TC)
for ret, verdict in ((_INT, "accept"), (_btf.Void(), "reject")):
    btf_case(f"ld_abs in a function returning {ret.name or 'void'} (btf)", verdict,
             [asm.call_func("g"), asm.exit(), asm.label("g"), asm.mov_reg(R6, R1),
              asm.ld_abs(1, 0), asm.exit()],
             {"g": _func("g", [_btf.Ptr(_SKB)], static=True, ret=ret)})

# -- a packet pointer known past pkt_end decides a second comparison with it ------------------
for op, name in (("jgt", "pkt > end"), ("jge", "pkt >= end")):
    cmp = getattr(asm, op)
    case(f"xdp: {name} twice, the second decided", "accept",
         [asm.ldx(4, R2, R1, 4), asm.ldx(4, R4, R1, 0), asm.mov_reg(R3, R4), asm.add(R3, 42),
          asm.mov(R1, 0), cmp(R3, R2, 2), asm.add(R4, 14), asm.mov_reg(R1, R4),
          cmp(R3, R2, 1), asm.ldx(2, R2, R1, 9), asm.mov(R0, 2), asm.exit()], XDP)
case("xdp: pkt < end then pkt >= end, the second decided", "accept",
     [asm.ldx(4, R2, R1, 4), asm.ldx(4, R4, R1, 0), asm.mov_reg(R3, R4), asm.add(R3, 42),
      asm.mov(R1, 0), asm.jlt(R3, R2, 2), asm.jge(R3, R2, 2), asm.ja(1),
      asm.ldx(1, R0, R4, 0), asm.mov(R0, 2), asm.exit()], XDP)

# -- data_meta: bytes before the packet, checked against ctx->data ---------------------------
for check, size, verdict in ((4, 4, "accept"), (4, 8, "reject"), (8, 8, "accept")):
    case(f"xdp: data_meta checked {check} against data, read u{size * 8}", verdict,
         [asm.ldx(4, R2, R1, 8), asm.ldx(4, R3, R1, 0), asm.mov_reg(R4, R2),
          asm.add(R4, check), asm.jgt(R4, R3, "out"), asm.ldx(size, R0, R2, 0),
          asm.label("out"), asm.mov(R0, 2), asm.exit()], XDP)
case("xdp: data_meta checked against data_end is not enough", "reject",
     [asm.ldx(4, R2, R1, 8), asm.ldx(4, R3, R1, 4), asm.mov_reg(R4, R2), asm.add(R4, 4),
      asm.jgt(R4, R3, "out"), asm.ldx(4, R0, R2, 0), asm.label("out"), asm.mov(R0, 2),
      asm.exit()], XDP)

# -- may_goto: loops the kernel bounds at run time -------------------------------------------
case("may_goto: a loop doing nothing", "accept",
     [asm.mov(R0, 0), asm.label("top"), asm.may_goto("out"), asm.ja("top"), asm.label("out"),
      asm.exit()])
case("may_goto: a counting loop", "accept",
     [asm.mov(R0, 0), asm.label("top"), asm.may_goto("out"), asm.add(R0, 1), asm.ja("top"),
      asm.label("out"), asm.exit()])
case("may_goto: bounded index into the stack", "accept",
     [asm.st(8, R10, 0, -8), asm.mov(R1, 0), asm.label("top"), asm.may_goto("out"),
      asm.jge(R1, 8, "out"), asm.mov_reg(R2, R10), asm.add(R2, -8), asm.add(R2, R1),
      asm.st(1, R2, 1, 0), asm.add(R1, 1), asm.ja("top"), asm.label("out"), *RET0])
case("may_goto: unbounded index into the stack", "reject",
     [asm.st(8, R10, 0, -8), asm.mov(R1, 0), asm.label("top"), asm.may_goto("out"),
      asm.mov_reg(R2, R10), asm.add(R2, -8), asm.add(R2, R1), asm.st(1, R2, 1, 0),
      asm.add(R1, 1), asm.ja("top"), asm.label("out"), *RET0])
case("may_goto: a pointer walking off the stack", "reject",
     [asm.mov_reg(R2, R10), asm.add(R2, -16), asm.label("top"), asm.may_goto("out"),
      asm.st(1, R2, 1, 0), asm.add(R2, 1), asm.ja("top"), asm.label("out"), *RET0])
case("may_goto: the loop exit sees every iteration's value", "reject",
     [asm.mov(R1, 0), asm.label("top"), asm.may_goto("out"), asm.add(R1, 8), asm.ja("top"),
      asm.label("out"), asm.st(8, R10, 0, -16), asm.mov_reg(R2, R10), asm.add(R2, -16),
      asm.add(R2, R1), asm.ldx(8, R0, R2, 0), asm.exit()])

# -- direct value access (lddw of a map value): only an array of one entry has an address ------
for m, verdict in (("bss", "accept"), ("arr", "reject"), ("hash", "reject")):
    case(f"direct value access to {m}", verdict,
         [asm.ld_map_value(R1, m, 0), asm.ldx(4, R0, R1, 0), asm.exit()])

# -- register fields past R10 (4-bit fields, eleven registers) -----------------------------------
case("jump compares with r11", "reject",
     [asm.mov(R0, 0), Instruction(0x2D, 0, 11, 0, 0), asm.exit()])
case("mov from r12", "reject", [Instruction(0xBF, 0, 12, 0, 0), asm.exit()])
case("mov into r15", "reject", [Instruction(0xB7, 15, 0, 0, 0), asm.mov(R0, 0), asm.exit()])
