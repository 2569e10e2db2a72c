import gc
import sys

# A command's start-up makes tens of thousands of objects (modules, classes, its programs)
# that live as long as it does: collecting while they are made finds no garbage and costs
# ~5 ms of a tool's start. cli.main collects again, past a frozen start-up, once the
# command's code is imported. (The package's __init__ imports nothing heavy first.)
gc.disable()

from .cli import main  # noqa: E402

sys.exit(main())
