"""Attaching programs, one module per attach family; every attachment is a :class:`Link`."""

from .base import Link, LinkInfo

__all__ = ["Link", "LinkInfo"]
