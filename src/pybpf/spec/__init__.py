"""What a collection is before it lives: programs, maps and BTF as plain data.

Specs hold no file descriptors and do not depend on the running kernel: the same object file
gives the same spec everywhere. A backend (kernel/, vm/) turns a spec into live objects.
:mod:`.model` holds the specs and the kinds of maps and programs, :mod:`.flags` the flag sets
(``BPF_F_*``), :mod:`.sections` what a SEC() name says (libbpf's convention).
"""

from .flags import MapFlags, ProgFlags, UpdateFlags
from .model import (
    AttachType,
    CollectionSpec,
    ExternKind,
    ExternSpec,
    MapSpec,
    MapType,
    Pinning,
    ProgramSpec,
    ProgramType,
    VariableSpec,
)

__all__ = ["MapType", "ProgramType", "AttachType", "Pinning", "MapSpec", "ProgramSpec",
           "ExternKind", "ExternSpec", "VariableSpec", "CollectionSpec", "MapFlags",
           "ProgFlags", "UpdateFlags"]
