"""tcpdump's printing of text protocols (HTTP, RTSP, SMTP, FTP, WHOIS over TCP; SIP and
syslog over UDP) and of the SSH version banner: without -v the first line, with -v every
line as long as the payload stays printable text (its txtproto_print and print_txt_line)."""

from __future__ import annotations

from .printer_words import safe_text, unknown_data_lines

__all__ = ["text_protocol", "ssh_banner", "syslog_text", "HTTP_COMMANDS", "RTSP_COMMANDS",
           "SIP_COMMANDS"]

HTTP_COMMANDS = frozenset((
    "GET", "PUT", "COPY", "HEAD", "LOCK", "MOVE", "POLL", "POST", "BCOPY", "BMOVE", "MKCOL",
    "TRACE", "LABEL", "MERGE", "DELETE", "SEARCH", "UNLOCK", "REPORT", "UPDATE", "NOTIFY",
    "BDELETE", "CONNECT", "OPTIONS", "CHECKIN", "PROPFIND", "CHECKOUT", "CCM_POST",
    "SUBSCRIBE", "PROPPATCH", "BPROPFIND", "BPROPPATCH", "UNCHECKOUT", "MKACTIVITY",
    "MKWORKSPACE", "UNSUBSCRIBE", "RPC_CONNECT", "VERSION-CONTROL", "BASELINE-CONTROL"))
RTSP_COMMANDS = frozenset((
    "DESCRIBE", "ANNOUNCE", "GET_PARAMETER", "OPTIONS", "PAUSE", "PLAY", "RECORD",
    "REDIRECT", "SETUP", "SET_PARAMETER", "TEARDOWN"))

SIP_COMMANDS = frozenset((
    "ACK", "BYE", "CANCEL", "DO", "INFO", "INVITE", "MESSAGE", "NOTIFY", "OPTIONS", "PRACK",
    "QAUTH", "REFER", "REGISTER", "SPRACK", "SUBSCRIBE", "UPDATE", "PUBLISH"))
_SYSLOG_FACILITIES = ("kernel", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
                      "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "cron",
                      "local0", "local1", "local2", "local3", "local4", "local5", "local6",
                      "local7")
_SYSLOG_SEVERITIES = ("emergency", "alert", "critical", "error", "warning", "notice", "info",
                      "debug")


class _Cut(Exception):
    """A read past the captured bytes (tcpdump's longjmp)."""


def _printable(c: int) -> bool:
    return 0x20 <= c <= 0x7E


def _byte(data: bytes, at: int) -> int:
    if at >= len(data):
        raise _Cut
    return data[at]


def _token(data: bytes, at: int, length: int) -> tuple[int, str]:
    """fetch_token: the token at ``at`` and where the next one starts (0: none)."""
    start = at
    while at < length:
        if at >= len(data):
            return 0, ""
        c = data[at]
        if c >= 0x80:
            return 0, ""
        if c in b" \t\r\n":
            break
        if not _printable(c) or at - start + 2 > 256:
            return 0, ""
        at += 1
    token = data[start:at].decode("ascii")
    if not token:
        return 0, ""
    while at < length and at < len(data):
        c = data[at]
        if c in b"\r\n" or not _printable(c) or c not in b" \t":
            break
        at += 1
    return at, token


def _line(out: list[str], prefix: str, data: bytes, at: int, length: int,
          protocol: str) -> int:
    """print_txt_line: the line at ``at``; where the next starts, 0 to stop."""
    start = at
    while at < length:
        c = _byte(data, at)
        if c == 0x0A:
            out.append(prefix + data[start:at].decode("ascii"))
            return at + 1
        if c == 0x0D:
            if at + 1 >= length:
                return 0
            if _byte(data, at + 1) == 0x0A:
                out.append(prefix + data[start:at].decode("ascii"))
                return at + 2
            return 0
        if not _printable(c) and c != 0x09:
            return 0
        at += 1
    out.append(prefix + data[start:at].decode("ascii") + f" [|{protocol}]")
    return 0


def text_protocol(data: bytes, length: int, protocol: str, verbose: int,
                  commands: frozenset[str] | None = None, second_token: bool = False) -> str:
    """The text after ``: `` for a text protocol's ``length`` payload bytes (``data`` is
    what was captured); ``protocol`` is tcpdump's lower-case name."""
    out = [protocol.upper()]
    try:
        show = commands is None
        if commands is not None:
            at, token = _token(data, 0, length)
            if at:
                show = token.upper() in commands
                if second_token:
                    at, token = _token(data, at, length)
                if at and len(token) == 3 and token.isdigit():
                    show = True
        if show:
            if verbose:
                out.append(f", length: {length}")
                at = 0
                while at < length:
                    at = _line(out, "\n\t", data, at, length, protocol)
                    if not at:
                        break
            else:
                _line(out, ": ", data, 0, length, protocol)
    except _Cut:
        out.append(f" [|{protocol}]")
    return "".join(out)


def ssh_banner(data: bytes, length: int) -> str:
    """``: SSH: SSH-2.0-...`` when the payload starts with a version line, else ""."""
    try:
        for index, expected in enumerate(b"SSH-"):
            if _byte(data, index) != expected:
                return ""
        at = 4
        while at < length:
            c = _byte(data, at)
            if c == 0x0A or (c == 0x0D and at + 1 < length and _byte(data, at + 1) == 0x0A):
                return ": SSH: " + data[:at].decode("ascii")
            if c == 0x0D or not _printable(c):
                return ""
            at += 1
        return ""
    except _Cut:
        return " [|ssh]"


def syslog_text(data: bytes, length: int, verbose: int) -> str:
    """A syslog message (UDP 514): facility and severity from its ``<PRI>``, and with -v
    the message itself (-vv: and its bytes in hex)."""
    try:
        if _byte(data, 0) != ord("<"):
            return " (invalid)"
        at, priority = 1, 0
        while at <= 3 and 0x30 <= _byte(data, at) <= 0x39:
            priority = priority * 10 + _byte(data, at) - 0x30
            at += 1
        if _byte(data, at) != ord(">"):
            return " (invalid)"
        at += 1
    except _Cut:
        return " [|syslog]"
    facility, severity = (priority & 0x3F8) >> 3, priority & 7
    facility_name = (_SYSLOG_FACILITIES[facility] if facility < len(_SYSLOG_FACILITIES)
                     else f"unknown ({facility})")
    severity_name = _SYSLOG_SEVERITIES[severity]
    if not verbose:
        return f"SYSLOG {facility_name}.{severity_name}, length: {length}"
    text = (f"SYSLOG, length: {length}\n\tFacility {facility_name} ({facility}), Severity "
            f"{severity_name} ({severity})\n\tMsg: ")
    if length > at:
        text += safe_text(data[at:length])
        if len(data) < length:   # tcpdump reads the message byte by byte to its end
            return text + " [|syslog]"
    if verbose > 1:
        text += unknown_data_lines(data[:length], "\n\t")
    return text
