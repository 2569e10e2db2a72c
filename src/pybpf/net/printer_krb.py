"""Kerberos on UDP ports 88 and 750 as ``tcpdump -n`` 4.99 prints it: the protocol
version from the first byte (Kerberos 5's AS-REQ and AS-REP tags read as `` v5``, its
other messages print nothing), and for version 4 the byte order, message type and the
principals, lifetimes and error codes of its requests and replies.

A principal's strings end at their NUL: one that runs to the end of the capture ends
the line with `` [|krb]``, as does any other field beyond it."""

from __future__ import annotations

from .printer_words import LongJump, Words, safe_text

__all__ = ["krb_text"]

_TYPES = {2: "KDC_REQUEST", 4: "KDC_REPLY", 6: "APPL_REQUEST", 8: "APPL_REQUEST_MUTUAL",
          10: "ERR_REPLY", 12: "PRIVATE", 14: "SAFE", 16: "APPL_ERR", 126: "DIE"}
_ERRORS = ("OK", "NAME_EXP", "SERVICE_EXP", "AUTH_EXP", "PKT_VER", "NAME_MAST_KEY_VER",
           "SERV_MAST_KEY_VER", "BYTE_ORDER", "PRINCIPAL_UNKNOWN", "PRINCIPAL_NOT_UNIQUE",
           "NULL_KEY")


class _Cut(Exception):
    """A string ran to the end of the capture."""


class _Out(Words):
    def string(self, at: int) -> int:
        """Prints the NUL-ended string at ``at``; where the next field starts."""
        end = self.data.find(b"\0", at)
        if end < 0:
            self.add(safe_text(self.data[at:]))
            raise _Cut
        self.add(safe_text(self.data[at:end]))
        return end + 1

    def short(self, at: int, little: bool) -> int:
        value = self.get(at, 2)
        return ((value & 0xFF) << 8 | value >> 8) if little else value


def krb_text(data: bytes) -> str:
    """The text after the ports for a Kerberos message (``data``: what was captured)."""
    out = _Out(data, "krb")
    if not data:
        return " [|krb]"
    try:
        version = out.get(0)
        if version in (1, 2, 3, 4):
            out.add(f" v{version}")
        elif version in (106, 107):
            out.add(" v5")
        if version == 4:
            _v4(out)
    except _Cut:
        out.add(" [|krb]")
    except LongJump as jump:
        return jump.text + " [|krb]"
    return out.text()


def _v4(out: _Out) -> None:
    little = bool(out.get(1) & 1)
    kind = out.get(1) & 0xFE
    out.add(f" {'le' if little else 'be'} {_TYPES.get(kind, f'#{kind}')}: ")
    if kind == 2:
        at = _principal(out, 2) + 4
        out.add(f" {out.get(at) * 5}min ")
        at = out.string(at + 1)
        out.add(".")
        out.string(at)
    elif kind == 6:
        out.add(f"v{out.get(2)} ")
        at = out.string(3)
        out.add(f" ({out.get(at)})")
        out.add(f" ({out.get(at + 1)})")
    elif kind == 4:
        at = _principal(out, 2) + 10
        out.add(f" ({out.short(at, little)})")
    elif kind == 10:
        at = _principal(out, 2) + 4
        code = out.short(at, little)
        out.add(f" {_ERRORS[code] if code < len(_ERRORS) else f'#{code}'} ")
        out.string(at + 4)
    else:
        out.add("(unknown)")


def _principal(out: _Out, at: int) -> int:
    """name.instance@realm; where the next field starts."""
    at = out.string(at)
    out.add(".")
    at = out.string(at)
    out.add("@")
    return out.string(at)
