"""BCC's tracers rebuilt on pybpf: one module per tool (``pybpf execsnoop``,
``execsnoop.pybpf``), each with ``parse_args``, ``build``, ``run`` and ``main``; the parts
they share are in :mod:`pybpf.tools.common`."""
