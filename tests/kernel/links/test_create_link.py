"""links.base.create_link: an attach family's errno hints reach the KernelError (no kernel
needed: bpf() is replaced)."""

from __future__ import annotations

import errno

import pytest

from pybpf.errors import KernelError
from pybpf.kernel import sys as bpfsys
from pybpf.kernel.links import base


def _failing(code: int):  # type: ignore[no-untyped-def]
    def link_create(attr, *, obj=None):  # type: ignore[no-untyped-def]
        raise KernelError("bpf(LINK_CREATE)", code, obj=obj)
    return link_create


def test_a_known_errno_gets_the_family_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bpfsys, "link_create", _failing(errno.EBUSY))
    with pytest.raises(KernelError) as caught:
        base.create_link(bpfsys.LinkCreateAttr(), description="xdp p on lo (skb)",
                         hints={errno.EBUSY: "the interface has a program already"})
    assert caught.value.errno == errno.EBUSY
    assert "the interface has a program already" in str(caught.value)
    assert "xdp p on lo" in str(caught.value)


def test_another_errno_stays_as_the_kernel_gave_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bpfsys, "link_create", _failing(errno.ENOMEM))
    with pytest.raises(KernelError) as caught:
        base.create_link(bpfsys.LinkCreateAttr(), description="d",
                         hints={errno.EBUSY: "the interface has a program already"})
    assert caught.value.errno == errno.ENOMEM
    assert "program already" not in str(caught.value)
