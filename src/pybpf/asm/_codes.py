"""The opcode fields of :mod:`.opcodes` as plain ints, under their uapi names (linux/bpf.h,
bpf_common.h): the values the enums there take, for the builder, the instruction and the
linker, which make instructions without importing :mod:`enum` (with the enums' classes,
~3 ms of a first `pybpf trace` run, which compiles a script through the builder)."""

# instruction classes (the low 3 bits)
BPF_LD, BPF_LDX, BPF_ST, BPF_STX = 0x00, 0x01, 0x02, 0x03
BPF_ALU, BPF_JMP, BPF_JMP32, BPF_ALU64 = 0x04, 0x05, 0x06, 0x07

# the operand source bit of arithmetic and jumps
BPF_K, BPF_X = 0x00, 0x08

# arithmetic operations (the high 4 bits)
BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV = 0x00, 0x10, 0x20, 0x30
BPF_OR, BPF_AND, BPF_LSH, BPF_RSH = 0x40, 0x50, 0x60, 0x70
BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV = 0x80, 0x90, 0xA0, 0xB0
BPF_ARSH, BPF_END = 0xC0, 0xD0

# jump operations (the high 4 bits)
BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE = 0x00, 0x10, 0x20, 0x30
BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE = 0x40, 0x50, 0x60, 0x70
BPF_CALL, BPF_EXIT, BPF_JLT, BPF_JLE = 0x80, 0x90, 0xA0, 0xB0
BPF_JSLT, BPF_JSLE, BPF_JCOND = 0xC0, 0xD0, 0xE0

# load and store sizes and modes
BPF_W, BPF_H, BPF_B, BPF_DW = 0x00, 0x08, 0x10, 0x18
BPF_IMM, BPF_ABS, BPF_IND, BPF_MEM, BPF_MEMSX, BPF_ATOMIC = 0x00, 0x20, 0x40, 0x60, 0x80, 0xC0

# atomic operations (imm of an STX|ATOMIC); ADD, OR, AND and XOR are the arithmetic ones
BPF_FETCH = 0x01
BPF_XCHG = 0xE0 | BPF_FETCH
BPF_CMPXCHG = 0xF0 | BPF_FETCH
BPF_LOAD_ACQ, BPF_STORE_REL = 0x100, 0x110

# src of an lddw: what its immediate means
BPF_PSEUDO_IMM64, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, BPF_PSEUDO_BTF_ID = 0, 1, 2, 3
BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE = 4, 5, 6

# src of a call
BPF_HELPER_CALL, BPF_PSEUDO_CALL, BPF_PSEUDO_KFUNC_CALL = 0, 1, 2

# masks of the opcode byte's fields
CLASS_MASK, SOURCE_MASK, OP_MASK, SIZE_MASK, MODE_MASK = 0x07, 0x08, 0xF0, 0x18, 0xE0

LDDW_OPCODE = BPF_LD | BPF_DW | BPF_IMM  # 0x18
