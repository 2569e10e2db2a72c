"""One module per ``pybpf`` subcommand: ``add_arguments(parser)`` and ``run(args) -> int``."""

__all__: list[str] = []  # the subcommands are its modules, imported by name (cli.py)
