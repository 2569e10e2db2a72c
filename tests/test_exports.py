"""The top-level API is small and honest: __all__ names exist and nothing private leaks."""

import pybpf


def test_all_names_exist() -> None:
    for name in pybpf.__all__:
        assert hasattr(pybpf, name), name


def test_all_is_the_public_surface() -> None:
    public = {n for n in dir(pybpf) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(pybpf, n)).__name__ == "module"}
    assert public - modules == set(pybpf.__all__)


def test_errors_form_one_family() -> None:
    for name in ("AsmError", "BTFError", "ELFError", "CORERelocationError", "KernelError",
                 "VerifierError", "ClosedError", "NotSupportedError"):
        assert issubclass(getattr(pybpf, name), pybpf.BPFError)
    assert issubclass(pybpf.KernelError, OSError)
    assert issubclass(pybpf.InvalidInputError, ValueError)
