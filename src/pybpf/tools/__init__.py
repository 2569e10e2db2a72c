"""BCC's tracers rebuilt on pybpf: one module per tool (``pybpf execsnoop``,
``execsnoop.pybpf``), each with ``parse_args``, ``build``, ``run`` and ``main``; the parts
they share are in :mod:`pybpf.tools.common`."""

__all__: list[str] = []  # the tools are its modules, imported by name (cli.py)
