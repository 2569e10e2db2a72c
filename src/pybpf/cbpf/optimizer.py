"""Placeholder: filled in below."""
from .isa import SockFilter


def optimize_program(program: list[SockFilter]) -> list[SockFilter]:
    return program
