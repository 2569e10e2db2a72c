"""BTF: parse ``.BTF``/``.BTF.ext`` and the kernel's BTF, look types up, print, encode.

Start with :func:`load_kernel_spec` or :meth:`Spec.from_bytes`, then ``spec.find(name,
Struct)``. Types are the classes of :mod:`pybpf.btf.types`; ``pybpf.btf.ext.parse_ext``
reads ``.BTF.ext``; :class:`Builder` makes BTF bytes from type objects.
"""

# not typing's constant: `pybpf trace` compiles a script without importing typing
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .builder import Builder
    from .queries import alignof, sizeof, skip_qualifiers
    from .spec import Spec, load_kernel_spec, load_split_spec
    from .types import (
                        BOOL,
                        CHAR,
                        SIGNED,
                        Array,
                        Const,
                        Datasec,
                        DeclTag,
                        Enum,
                        Enum64,
                        EnumValue,
                        Float,
                        Func,
                        FuncLinkage,
                        FuncProto,
                        Fwd,
                        FwdKind,
                        Int,
                        IntEncoding,
                        Kind,
                        Member,
                        Param,
                        Ptr,
                        Restrict,
                        Struct,
                        Type,
                        Typedef,
                        TypeTag,
                        Union,
                        Var,
                        VarLinkage,
                        VarSecinfo,
                        Void,
                        Volatile,
    )
del TYPE_CHECKING

# imported on first use (PEP 562): most importers want the type classes, and the BTF
# reader pulls in its index cache (tempfile, pathlib: ~7 ms of every start-up)
_LAZY = {"Builder": ".builder", "alignof": ".queries", "sizeof": ".queries",
         "skip_qualifiers": ".queries", "Spec": ".spec", "load_kernel_spec": ".spec",
         "load_split_spec": ".spec"}

__all__ = [
    "Spec", "load_kernel_spec", "load_split_spec", "Builder",
    "skip_qualifiers", "sizeof", "alignof",
    "Type", "Void", "Int", "Ptr", "Array", "Struct", "Union", "Member", "Enum", "Enum64",
    "EnumValue", "Fwd", "FwdKind", "Typedef", "Volatile", "Const", "Restrict", "TypeTag",
    "Func", "FuncProto", "Param", "Var", "Datasec", "VarSecinfo", "Float", "DeclTag",
    "Kind", "IntEncoding", "SIGNED", "CHAR", "BOOL", "FuncLinkage", "VarLinkage",
]


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(_LAZY.get(name, ".types"), __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
