"""A program loaded into the userspace machine, and the result of one run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..asm.instruction import Instruction
from ..errors import AsmError
from .errors import ProgramLoadError
from .helpers import DEFAULT_HELPERS, Environment, Helper, RunState
from .interpreter import STACK_BYTES, STACK_BYTES_PER_FRAME, Machine, Predecoder, execute
from .maps import VMMap
from .memory import Memory

DEFAULT_BUDGET = 10_000_000  # instructions per run; the kernel's complexity limit is 1M


@dataclass
class RunResult:
    """What one run left behind.

    ``r0`` is unsigned (0 <= r0 < 2**64); ``insns`` counts executed instructions (an lddw
    counts once); ``memory`` is the context/memory bytes as the program left them;
    ``printk`` the trace_printk lines of this run.
    """

    r0: int
    insns: int
    memory: bytes = b""
    printk: list[str] = field(default_factory=list)


class VMProgram:
    """Instructions checked and predecoded once, run many times.

    ``maps`` resolves lddw map references, by name or by the number raw bytecode carries in
    ``imm``; ``helpers`` replaces the helper table (default: :data:`DEFAULT_HELPERS`);
    ``env`` is what helpers see of the world (clock, random numbers, printk output).

    Raises :class:`ProgramLoadError` for anything the machine cannot run: an unknown opcode,
    a write to r10, a jump out of the program, an unknown helper or map.
    """

    def __init__(self, instructions: Sequence[Instruction], *, name: str = "prog",
                 maps: Mapping[str | int, VMMap] | None = None,
                 helpers: Mapping[int, Helper] | None = None,
                 env: Environment | None = None):
        self.name = name
        self.instructions = list(instructions)
        self.env = env if env is not None else Environment()
        predecoder = Predecoder(name, maps or {}, DEFAULT_HELPERS if helpers is None
                                else helpers)
        self._code = predecoder.predecode(self.instructions)
        self._maps_by_address = {address: m for m, address
                                 in predecoder.map_addresses.items()}

    @classmethod
    def from_bytes(cls, bytecode: bytes, **kwargs: object) -> "VMProgram":
        """Load little-endian raw bytecode; a truncated buffer is a ProgramLoadError."""
        try:
            instructions = Instruction.decode(bytecode)
        except AsmError as err:
            raise ProgramLoadError(str(err), program=str(kwargs.get("name", "prog"))) from None
        return cls(instructions, **kwargs)  # type: ignore[arg-type]

    def run(self, memory: bytes | bytearray | None = None, *, packet: bytes | None = None,
            budget: int = DEFAULT_BUDGET) -> RunResult:
        """Run once with r1 pointing to a copy of ``memory`` and r2 holding its length.

        Without ``memory`` r1 and r2 are 0. ``packet`` is what the legacy LD_ABS/LD_IND
        instructions read. Raises a :class:`~pybpf.vm.errors.VMRunError` when the run
        stops early (memory fault, budget, call depth); maps keep what was written before.
        """
        address_space = Memory()
        stack = address_space.add("stack", bytearray(STACK_BYTES))
        stack.low = STACK_BYTES - STACK_BYTES_PER_FRAME
        regs = [0] * 11
        regs[10] = stack.end
        data = bytearray(memory) if memory is not None else None
        if data is not None:
            regs[1] = address_space.add("memory", data).base
            regs[2] = len(data)
        packet_region = (address_space.add("packet", bytearray(packet), writable=False)
                         if packet is not None else None)
        first_line = len(self.env.printk)
        machine = Machine(address_space, stack, packet_region,
                          RunState(address_space, self._maps_by_address, self.env))
        count = execute(self._code, regs, machine, budget)
        return RunResult(regs[0], count, bytes(data) if data is not None else b"",
                         self.env.printk[first_line:])


def load(instructions: Sequence[Instruction] | bytes, **kwargs: object) -> VMProgram:
    """A :class:`VMProgram` from instructions or raw little-endian bytecode."""
    if isinstance(instructions, (bytes, bytearray, memoryview)):
        return VMProgram.from_bytes(bytes(instructions), **kwargs)
    return VMProgram(instructions, **kwargs)  # type: ignore[arg-type]
