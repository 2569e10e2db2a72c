"""One module per ``pybpf`` subcommand: ``add_arguments(parser)`` and ``run(args) -> int``."""
