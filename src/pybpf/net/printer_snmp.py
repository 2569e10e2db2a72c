"""tcpdump -n's line for SNMP (UDP 161 and 162): the PDU type and length, the community
when it is not "public", request ids (-v), error status, and each variable binding with
numeric object ids; for SNMPv3 the message flags, the user-based security model's engine
boots and time (-v) and user, and the scoped PDU's context engine and name.

The BER reader below follows what tcpdump's reader accepts and prints on damage
(``[len5<asnlen9]`` and the like), so damaged messages print the same too.
"""

from __future__ import annotations

__all__ = ["snmp_text"]

_CONTEXT_PDUS = ("GetRequest", "GetNextRequest", "GetResponse", "SetRequest", "Trap",
                 "GetBulk", "Inform", "V2Trap", "Report")
_GET, _GETNEXT, _SET, _TRAP, _GETBULK, _INFORM, _V2TRAP, _REPORT = 0, 1, 3, 4, 5, 6, 7, 8
_ERRORS = ("noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess",
           "wrongType", "wrongLength", "wrongEncoding", "wrongValue", "noCreation",
           "inconsistentValue", "resourceUnavailable", "commitFailed", "undoFailed",
           "authorizationError", "notWritable", "inconsistentName")
_GENERIC_TRAPS = ("coldStart", "warmStart", "linkDown", "linkUp", "authenticationFailure",
                  "egpNeighborLoss", "enterpriseSpecific")
_EXCEPTIONS = ("noSuchObject", "noSuchInstance", "endOfMibView")
_UNIVERSAL = ("U-0", "Boolean", "Integer", "Bitstring", "String", "Null", "ObjID",
              "ObjectDes", "U-8", "U-9", "U-10", "U-11", "U-12", "U-13", "U-14", "U-15",
              "Sequence", "Set")
_APPLICATION = ("IpAddress", "Counter", "Gauge", "TimeTicks", "Opaque", "C-5", "Counter64")
_CLASSES = (_UNIVERSAL, _APPLICATION, _CONTEXT_PDUS, ("P-0",))
_VERSIONS = {0: "SNMPv1", 1: "SNMPv2c", 3: "SNMPv3"}


class _Stop(Exception):
    """The message cannot be read further; what was printed so far stands."""


class _Jump(Exception):  # noqa: N818 - tcpdump leaving the packet, not an error
    """A read past the captured bytes: ' [|snmp]' ends the line, nothing follows."""


class _Element:
    """One BER element: its kind (tcpdump's names), value and size."""

    __slots__ = ("kind", "value", "body", "size", "tag")

    def __init__(self, kind: str, value: int, body: bytes, size: int, tag: int) -> None:
        self.kind, self.value, self.body, self.size, self.tag = kind, value, body, size, tag


class _Reader:
    def __init__(self) -> None:
        self.out: list[str] = []

    def write(self, text: str) -> None:
        self.out.append(text)

    def parse(self, data: bytes, length: int | None = None) -> _Element:
        """The element at the start of ``data`` (prints and stops on damage). ``length``
        is the message's length when more than the captured ``data`` (only the outer
        element can be cut short: once it is read whole, so is all inside it)."""
        left = len(data) if length is None else length

        def byte(at: int) -> int:
            if at >= len(data):   # tcpdump's bounds-checked read: the packet ends here
                raise _Jump
            return data[at]
        if left < 1:
            self.write("[nothing to parse]")
            raise _Stop
        first = byte(0)
        constructed, klass, tag = first & 0x20, first >> 6, first & 0x1F
        at = 1
        if tag == 0x1F:
            tag = 0
            while byte(at) & 0x80:
                if left - at < 1:
                    self.write("[Xtagfield?]")
                    raise _Stop
                tag = (tag << 7) | (byte(at) & 0x7F)
                at += 1
            if left - at < 1:
                self.write("[Xtagfield?]")
                raise _Stop
            tag = ((tag << 7) | byte(at)) & 0xFF
            at += 1
        if left - at < 1:
            self.write("[no asnlen]")
            raise _Stop
        size = byte(at)
        at += 1
        if size & 0x80:
            count = size & 0x7F
            if left - at < count:
                self.write(f"[asnlen? {left - at}<{count}]")
                raise _Stop
            if len(data) < at + count:
                self.write(" [|snmp]")
                raise _Stop
            size = int.from_bytes(data[at:at + count], "big") & 0xFFFFFFFF
            at += count
        if left - at < size:
            self.write(f"[len{left - at}<asnlen{size}]")
            raise _Stop
        ids = _CLASSES[klass]
        if tag >= len(ids):
            # tcpdump's class names are all "x" (its table macro does not stringify)
            self.write(f"[id?{'C' if constructed else 'P'}/x/{tag}]")
            raise _Stop
        if len(data) < at + size:
            self.write(" [|snmp]")
            raise _Stop
        body = data[at:at + size]
        kind, value = self._classify(bool(constructed), klass, tag, body)
        return _Element(kind, value, body, at + size, tag)

    def _classify(self, constructed: bool, klass: int, tag: int,
                  body: bytes) -> tuple[str, int]:
        if constructed:
            if klass == 0 and tag == 16:
                return "seq", 0
            if klass == 2:
                return "pdu", 0
            ids = _CLASSES[klass]
            self.write(f"C/{'U' if klass == 0 else 'x'}/{ids[tag]}")
            return "octets", 0
        if klass == 0:
            if tag == 4:
                return "str", 0
            if tag == 2:
                if not body:
                    self.write("[asnlen=0]")
                    raise _Stop
                value = int.from_bytes(body, "big", signed=True) & 0xFFFFFFFF
                return "int", value - (1 << 32) if value & 0x80000000 else value
            if tag == 6:
                return "oid", 0
            if tag == 5:
                return "null", 0
            self.write(f"[P/U/{_UNIVERSAL[tag]}]")
            return "octets", 0
        if klass == 1:
            if tag == 0:
                return "inetaddr", 0
            if tag in (1, 2, 3):
                return "uns", int.from_bytes(body, "big") & 0xFFFFFFFF
            if tag == 6:
                return "uns64", int.from_bytes(body, "big") & 0xFFFFFFFFFFFFFFFF
            self.write(f"[P/A/{_APPLICATION[tag]}]")
            return "octets", 0
        if klass == 2 and tag < 3:
            return "exception", tag
        ids = _CLASSES[klass]
        if klass == 2:
            return "any", 0
        self.write(f"[P/x/{ids[tag]}]")
        return "octets", 0

    def show(self, element: _Element) -> None:
        """Print ``element`` as tcpdump's asn1_print does."""
        kind, body = element.kind, element.body
        if kind == "octets":
            self.write("".join(f"_{b:02x}" for b in body))
        elif kind == "oid":
            self.write(_oid_text(body))
        elif kind in ("int", "uns", "uns64"):
            self.write(str(element.value))
        elif kind == "str":
            self.write(_string_text(body))
        elif kind == "seq":
            self.write(f"Seq({len(body)})")
        elif kind == "inetaddr":
            if len(body) != 4:
                self.write("[inetaddr len!=4]")
            self.write(".".join(str(b) for b in body))
        elif kind == "exception":
            self.write(f"[{_EXCEPTIONS[element.value]}]")
        elif kind == "pdu":
            self.write(f"{_CONTEXT_PDUS[element.tag]}({len(body)})")
        elif kind == "any":
            self.write("[BE_ANY!?]")


def _oid_text(body: bytes) -> str:
    parts = []
    value = 0
    first = True
    for b in body:
        value = (value << 7) | (b & 0x7F)
        if b & 0x80:
            continue
        if first:
            head = min(value // 40, 2)
            parts.append(head)
            value -= head * 40
            first = False
        parts.append(value & 0xFFFFFFFF)
        value = 0
    return "".join(f".{p}" for p in parts)


def _string_text(body: bytes) -> str:
    if all(32 <= b < 127 for b in body):
        return '"' + body.decode("ascii") + '"'
    return "_".join(f"{b:02x}" for b in body)


def snmp_text(data: bytes, length: int, verbose: int) -> str:
    """The text tcpdump prints after the ports for an SNMP message of ``length`` bytes,
    of which ``data`` were captured (it starts with a space)."""
    reader = _Reader()
    reader.write(" ")
    try:
        _message(reader, data, length, verbose)
    except _Stop:
        pass
    except _Jump:
        reader.write(" [|snmp]")
    return "".join(reader.out)


def _message(r: _Reader, data: bytes, length: int, verbose: int) -> None:
    top = r.parse(data, length)
    if top.kind != "seq":
        r.write("[!init SEQ]")
        r.show(top)
        return
    if top.size < length:
        r.write(f"[{length - top.size} extra after iSEQ]")
    body = top.body
    version = r.parse(body)
    if version.kind != "int":
        r.write("[version!=INT]")
        r.show(version)
        return
    number = version.value
    if number not in _VERSIONS:
        r.write(f"SNMP [version = {number}]")
        return
    if verbose:
        r.write("{ " + _VERSIONS[number] + " ")
    body = body[version.size:]
    # as in tcpdump, damage inside the community or PDU ends only that part
    try:
        if number == 3:
            _v3_message(r, body, verbose)
        else:
            _community(r, body, number, verbose)
    except _Stop:
        pass
    if verbose:
        r.write("} ")


def _v3_message(r: _Reader, data: bytes, verbose: int) -> None:
    """The v3 header, the security parameters (USM's), then the scoped PDU."""
    header = r.parse(data)
    if header.kind != "seq":
        r.write("[!message]")
        r.show(header)
        return
    if verbose:
        r.write("{ ")
    body = header.body
    at = _expect(r, body, "int", "[msgID!=INT]").size
    at += _expect(r, body[at:], "int", "[msgMaxSize!=INT]").size
    flags = _expect(r, body[at:], "str", "[msgFlags!=STR]")
    if len(flags.body) != 1:
        r.write(f"[msgFlags size {len(flags.body)}]")
        return
    value = flags.body[0]
    if value not in (0x00, 0x01, 0x03, 0x04, 0x05, 0x07):
        r.write(f"[msgFlags=0x{value:02X}]")
        return
    at += flags.size
    r.write("F=" + "".join(c for bit, c in ((1, "a"), (2, "p"), (4, "r")) if value & bit) + " ")
    model = _expect(r, body[at:], "int", "[msgSecurityModel!=INT]")
    at += model.size
    # tcpdump compares the model's size with what is left after it (not the sum)
    if model.size < len(body) - at:
        r.write(f"[{len(body) - at - model.size} extra after message SEQ]")
    if verbose:
        r.write("} ")
    if model.value != 3:
        r.write(f"[security model {model.value}]")
        return
    if verbose:
        r.write("{ USM ")
    # the security parameters are read from where the header's fields ended
    rest = data[header.size - len(body) + at:]
    parameters = _expect(r, rest, "str", "[msgSecurityParameters!=STR]")
    rest = rest[parameters.size:]
    try:
        _usm(r, parameters.body, verbose)
    except _Stop:
        pass
    if verbose:
        r.write("} ")
        r.write("{ ScopedPDU ")
    try:
        _scoped_pdu(r, rest, verbose)
    except _Stop:
        pass
    if verbose:
        r.write("} ")


def _usm(r: _Reader, data: bytes, verbose: int) -> None:
    outer = r.parse(data)
    if outer.kind != "seq":
        r.write("[!usm]")
        r.show(outer)
        return
    body = outer.body
    at = _expect(r, body, "str", "[msgAuthoritativeEngineID!=STR]").size
    for name, letter in (("Boots", "B"), ("Time", "T")):
        number = _expect(r, body[at:], "int", f"[msgAuthoritativeEngine{name}!=INT]")
        if verbose:
            r.write(f"{letter}={number.value} ")
        at += number.size
    user = _expect(r, body[at:], "str", "[msgUserName!=STR]")
    r.write("U=" + _string_text(user.body) + " ")
    at += user.size
    at += _expect(r, body[at:], "str", "[msgAuthenticationParameters!=STR]").size
    privacy = _expect(r, body[at:], "str", "[msgPrivacyParameters!=STR]")
    at += privacy.size
    if privacy.size < len(body) - at:
        r.write(f"[{len(body) - at - privacy.size} extra after usm SEQ]")


def _scoped_pdu(r: _Reader, data: bytes, verbose: int) -> None:
    outer = r.parse(data)
    if outer.kind != "seq":
        r.write("[!scoped PDU]")
        r.show(outer)
        return
    body = outer.body
    engine = _expect(r, body, "str", "[contextEngineID!=STR]")
    r.write("E=" + "".join(f"_{b:02x}" for b in engine.body) + " ")
    at = engine.size
    name = _expect(r, body[at:], "str", "[contextName!=STR]")
    r.write("C=" + _string_text(name.body) + " ")
    _pdu(r, body[at + name.size:], 3, verbose)


def _community(r: _Reader, data: bytes, version: int, verbose: int) -> None:
    community = r.parse(data)
    if community.kind != "str":
        r.write("[comm!=STR]")
        r.show(community)
        return
    if community.body != b"public":
        r.write("C=" + _string_text(community.body) + " ")
    _pdu(r, data[community.size:], version, verbose)


def _pdu(r: _Reader, data: bytes, version: int, verbose: int) -> None:
    pdu = r.parse(data)
    if pdu.kind != "pdu":
        r.write("[no PDU]")
        return
    if pdu.size < len(data):
        r.write(f"[{len(data) - pdu.size} extra after PDU]")
    if verbose:
        r.write("{ ")
    r.show(pdu)
    r.write(" ")
    kind = pdu.tag
    if version == 0 and kind in (_GETBULK, _INFORM, _V2TRAP, _REPORT):
        r.write("[v2 PDU in v1 message]")
        return
    if version == 1 and kind == _TRAP:
        r.write("[v1 PDU in v2 message]")
        return
    try:
        if kind == _TRAP:
            _trap(r, pdu.body)
        else:
            _request(r, kind, pdu.body, verbose)
    except _Stop:
        pass
    if verbose:
        r.write(" } ")


def _expect(r: _Reader, data: bytes, kind: str, complaint: str) -> _Element:
    element = r.parse(data)
    if element.kind != kind:
        r.write(complaint)
        r.show(element)
        raise _Stop
    return element


def _request(r: _Reader, kind: int, data: bytes, verbose: int) -> None:
    plain_requests = (_GET, _GETNEXT, _SET, _INFORM, _V2TRAP, _REPORT)
    request_id = _expect(r, data, "int", "[reqId!=INT]")
    if verbose:
        r.write(f"R={request_id.value} ")
    data = data[request_id.size:]
    status = _expect(r, data, "int", "[errorStatus!=INT]")
    error = 0
    value = status.value
    if kind in plain_requests and value != 0:
        r.write(f"[errorStatus({_error_name(value)})!=0]")
    elif kind == _GETBULK:
        r.write(f" N={value}")
    elif value != 0:
        r.write(f" {_error_name(value)}")
        error = value
    data = data[status.size:]
    index = _expect(r, data, "int", "[errorIndex!=INT]")
    value = index.value
    if kind in plain_requests and value != 0:
        r.write(f"[errorIndex({value})!=0]")
    elif kind == _GETBULK:
        r.write(f" M={value}")
    elif value != 0:
        r.write(f"@{value}" if error else f"[errorIndex({value}) w/o errorStatus]")
    elif error:
        r.write("[errorIndex==0]")
    _varbinds(r, kind, data[index.size:])


def _error_name(value: int) -> str:
    return _ERRORS[value] if 0 <= value < len(_ERRORS) else f"err={value & 0xFFFFFFFF}"


def _trap(r: _Reader, data: bytes) -> None:
    r.write(" ")
    enterprise = _expect(r, data, "oid", "[enterprise!=OID]")
    r.show(enterprise)
    data = data[enterprise.size:]
    r.write(" ")
    agent = _expect(r, data, "inetaddr", "[agent-addr!=INETADDR]")
    r.show(agent)
    data = data[agent.size:]
    generic = _expect(r, data, "int", "[generic-trap!=INT]")
    number = generic.value
    r.write(" " + (_GENERIC_TRAPS[number] if 0 <= number < len(_GENERIC_TRAPS)
                   else f"gt={number}"))
    data = data[generic.size:]
    specific = _expect(r, data, "int", "[specific-trap!=INT]")
    if number != 6:
        if specific.value != 0:
            r.write(f"[specific-trap({specific.value})!=0]")
    else:
        r.write(f" s={specific.value}")
    data = data[specific.size:]
    r.write(" ")
    stamp = _expect(r, data, "uns", "[time-stamp!=TIMETICKS]")
    r.show(stamp)
    _varbinds(r, _TRAP, data[stamp.size:])


def _varbinds(r: _Reader, kind: int, data: bytes) -> None:
    reads = kind in (_GET, _GETNEXT, _GETBULK)
    outer = r.parse(data)
    if outer.kind != "seq":
        r.write("[!SEQ of varbind]")
        r.show(outer)
        return
    if outer.size < len(data):
        r.write(f"[{len(data) - outer.size} extra after SEQ of varbind]")
    rest = outer.body
    while rest:
        r.write(" ")
        binding = r.parse(rest)
        if binding.kind != "seq":
            r.write("[!varbind]")
            r.show(binding)
            return
        rest = rest[binding.size:]
        name = _expect(r, binding.body, "oid", "[objName!=OID]")
        r.show(name)
        if not reads:
            r.write("=")
        value = r.parse(binding.body[name.size:])
        if value.kind != "null":
            if reads:
                r.write("[objVal!=NULL]")
            r.show(value)
