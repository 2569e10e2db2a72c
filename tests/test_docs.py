"""Every ```python block of README.md and docs/*.md runs: a page's blocks in order, as one
script file, in a fresh interpreter at the repository root (the pages use its test objects).

A block whose first line is ``# not run: <reason>`` is shown, not run (a fragment of a
larger program, a loop that waits for Ctrl-C...)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def python_blocks(page: Path) -> list[str]:
    blocks = re.findall(r"^```python\n(.*?)^```", page.read_text(), re.S | re.M)
    return [b for b in blocks if not b.startswith("# not run:")]


@pytest.mark.kernel
@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_snippets_run(page: Path, tmp_path: Path) -> None:
    script = tmp_path / f"{page.stem}_snippets.py"  # a file: pybpf.lang reads its source
    script.write_text("\n\n".join(python_blocks(page)))
    # TMPDIR: the temporary directories a snippet makes (as a reader's would) go under
    # tmp_path, not into /tmp run after run
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True,
                          text=True, timeout=240, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert done.returncode == 0, f"{page.name}:\n{done.stderr[-3000:]}"
