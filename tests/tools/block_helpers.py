"""A loop device the block I/O tool tests drive with O_DIRECT reads and writes."""

from __future__ import annotations

import mmap
import os
import subprocess
from collections.abc import Iterator

import pytest


@pytest.fixture
def loop_device(tmp_path) -> Iterator[str]:  # noqa: ANN001 - pytest's tmp_path
    image = tmp_path / "disk.img"
    with open(image, "wb") as f:
        f.truncate(8 << 20)
    dev = subprocess.check_output(["losetup", "-f", "--show", str(image)], text=True).strip()
    try:
        yield dev
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


def direct_io(dev: str, ios: int = 20, *, size: int = 4096, stride: int | None = None,
              reads: bool = True, writes: bool = True) -> None:
    """``ios`` O_DIRECT writes then reads of ``size`` bytes, ``stride`` bytes apart
    (default ``size``: sequential)."""
    fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
    buf = mmap.mmap(-1, size)   # page aligned, as O_DIRECT wants
    step = stride if stride is not None else size
    try:
        for i in range(ios):
            if writes:
                os.pwritev(fd, [buf], i * step)
        for i in range(ios):
            if reads:
                os.preadv(fd, [buf], i * step)
    finally:
        buf.close()
        os.close(fd)
