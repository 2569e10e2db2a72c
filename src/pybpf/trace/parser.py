"""The parser of bpftrace 0.17 scripts: tokens to :mod:`pybpf.trace.ast` nodes."""

from __future__ import annotations

from . import ast as A
from .errors import TraceError
from .lexer import Token, tokenize

TYPE_CHECKING = False     # typing costs ~2 ms of `pybpf trace`'s start (see .record)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["parse"]

_BINARY_LEVELS: list[tuple[str, ...]] = [
    ("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="),
    ("<<", ">>"), ("+", "-"), ("*", "/", "%"),
]
_ASSIGN_OPS = ("=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=")
_INT_TYPES = {f"{s}int{b}" for s in ("", "u") for b in (8, 16, 32, 64)}
_TOKEN_NAMES = {"eof": "end of file", "var": "variable", "map": "map", "int": "integer",
                "str": "string", "ident": "identifier"}


def _span(a: A.Loc, b: A.Loc) -> A.Loc:
    return A.Loc(a.line, a.col, b.end if b.line == a.line else a.end)


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.toks = tokens
        self.pos = 0
        self.no_div = False
        self.structs: dict[str, Any] = {}       # the script's C definitions by name

    # -- token helpers ------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def peek(self, ahead: int = 1) -> Token:
        return self.toks[min(self.pos + ahead, len(self.toks) - 1)]

    def at(self, text: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == text

    def take(self) -> Token:
        t = self.tok
        self.pos += 1
        return t

    def what(self) -> str:
        """The lookahead as bpftrace's grammar names it in a syntax error."""
        t = self.tok
        return _TOKEN_NAMES.get(t.kind, t.text)

    def unexpected(self) -> TraceError:
        return TraceError(f"syntax error, unexpected {self.what()}", self.tok.loc)

    def expect(self, text: str, expecting: str | None = None) -> Token:
        if not self.at(text):
            raise TraceError(f"syntax error, unexpected {self.what()}, expecting "
                             f"{expecting or text}", self.tok.loc)
        return self.take()

    # -- script and probes --------------------------------------------------------------
    def script(self) -> A.Script:
        first = self.tok.loc
        config: dict[str, str] = {}
        if self.tok.kind == "ident" and self.tok.text == "config":
            self.take()
            self.expect("=")
            self.expect("{")
            while not self.at("}"):
                key = self.take()
                self.expect("=")
                val = self.take()
                config[key.text] = str(val.value if val.value is not None else val.text)
                if self.at(";"):
                    self.take()
            self.expect("}")
        probes = []
        while self.tok.kind != "eof":
            if self.tok.kind == "cdef":
                from .cdefs import read_definitions  # C and BTF types: when a script has them

                t = self.take()
                read_definitions(t.text, t.loc, self.structs)
                continue
            probes.append(self.probe())
        if not probes:
            raise TraceError("syntax error, unexpected end of file, expecting {",
                             self.tok.loc)
        return A.Script(first, probes, config, self.structs)

    def probe(self) -> A.Probe:
        if self.tok.kind != "probe":
            raise self.unexpected()
        start = self.tok.loc
        points = [A.AttachPoint(self.tok.loc, self.take().text)]
        while self.at(","):
            self.take()
            if self.tok.kind != "probe":
                raise self.unexpected()
            points.append(A.AttachPoint(self.tok.loc, self.take().text))
        pred = None
        if self.at("/"):
            self.take()
            self.no_div = True
            pred = self.expr()
            self.no_div = False
            self.expect("/")
        if not self.at("{"):
            t = self.tok
            raise TraceError(f"syntax error, unexpected {t.text or 'end of file'}, "
                             "expecting {", t.loc)
        body = self.block()
        return A.Probe(start, points, pred, body)

    def block(self) -> list[A.Node]:
        self.expect("{")
        stmts: list[A.Node] = []
        while not self.at("}"):
            if self.tok.kind == "eof":
                raise self.unexpected()
            if self.at(";"):
                self.take()
                continue
            stmt, needs_semi = self.statement()
            stmts.append(stmt)
            if self.at("}"):
                break
            if needs_semi:
                self.expect(";", "}")
        self.take()
        return stmts

    def statement(self) -> tuple[A.Node, bool]:
        t = self.tok
        if t.kind == "ident" and t.text == "if":
            return self.if_stmt(), False
        if t.kind == "ident" and t.text == "unroll":
            self.take()
            self.expect("(")
            count = self.take()
            if count.kind != "int":
                raise TraceError("unroll count must be an integer literal", count.loc)
            self.expect(")")
            return A.Unroll(t.loc, int(str(count.value)), self.block()), False
        if t.kind == "ident" and t.text == "while":
            self.take()
            self.expect("(")
            cond = self.expr()
            self.expect(")")
            return A.While(t.loc, cond, self.block()), False
        if t.kind == "ident" and t.text in ("return", "break", "continue"):
            self.take()
            return A.Jump(t.loc, t.text), True
        if self.at("{"):
            body = self.block()
            return A.If(t.loc, A.Int(t.loc, 1), body), False
        target = self.expr()
        if self.tok.kind == "op" and self.tok.text in _ASSIGN_OPS:
            op = self.take()
            if not isinstance(target, A.Var | A.MapRef):
                raise TraceError("syntax error, unexpected =", op.loc)
            value = self.expr()
            return A.Assign(_span(target.loc, value.loc), target, value, op.text), True
        if self.at("++") or self.at("--"):
            op = self.take()
            if not isinstance(target, A.Var | A.MapRef):
                raise TraceError(f"syntax error, unexpected {op.text}", op.loc)
            return A.Assign(_span(target.loc, op.loc), target, A.Int(op.loc, 1),
                            "+=" if op.text == "++" else "-=", True), True
        return A.ExprStmt(target.loc, target), True

    def if_stmt(self) -> A.If:
        t = self.take()
        self.expect("(")
        cond = self.expr()
        self.expect(")")
        then = self.block()
        other: list[A.Node] = []
        if self.tok.kind == "ident" and self.tok.text == "else":
            self.take()
            if self.tok.kind == "ident" and self.tok.text == "if":
                other = [self.if_stmt()]
            else:
                other = self.block()
        return A.If(t.loc, cond, then, other)

    # -- expressions --------------------------------------------------------------------
    def expr(self) -> A.Node:
        cond = self.binary(0)
        if self.at("?"):
            self.take()
            then = self.expr()
            self.expect(":")
            other = self.expr()
            return A.Ternary(_span(cond.loc, other.loc), cond, then, other)
        return cond

    def binary(self, level: int) -> A.Node:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        ops = _BINARY_LEVELS[level]
        while self.tok.kind == "op" and self.tok.text in ops:
            if self.tok.text == "/" and self.no_div:
                break
            op = self.take().text
            right = self.binary(level + 1)
            left = A.Binary(_span(left.loc, right.loc), op, left, right)
        return left

    def _cast_type(self) -> str | None:
        """The type of a cast starting at "(" (and consume it), or None (not a cast)."""
        i = self.pos + 1
        words = []
        while self.toks[i].kind == "ident" or (self.toks[i].kind == "op"
                                               and self.toks[i].text == "*"):
            words.append(self.toks[i].text)
            i += 1
        if not words or not (self.toks[i].kind == "op" and self.toks[i].text == ")"):
            return None
        if words[0] not in ("struct", "union", "enum") and words[0] not in _INT_TYPES:
            return None
        self.pos = i + 1
        name = " ".join(w for w in words if w != "*")
        stars = words.count("*")
        return name + (" " + "*" * stars if stars else "")

    def unary(self) -> A.Node:
        t = self.tok
        if t.kind == "op" and t.text in ("!", "~", "-", "*", "&"):
            self.take()
            operand = self.unary()
            if t.text == "-" and isinstance(operand, A.Int):
                return A.Int(_span(t.loc, operand.loc), -operand.value)
            return A.Unary(_span(t.loc, operand.loc), t.text, operand)
        if t.kind == "op" and t.text in ("++", "--"):
            self.take()
            operand = self.unary()
            raise TraceError("pre-increment is not supported; use $x++ as a statement",
                             _span(t.loc, operand.loc))
        if self.at("("):
            type_name = self._cast_type()
            if type_name is not None:
                operand = self.unary()
                words = type_name.replace("*", "").split()
                from .cdefs import c_type

                return A.Cast(_span(t.loc, operand.loc), type_name, operand,
                              c_type(words, self.structs) if "*" in type_name else None)
        return self.postfix(self.primary())

    def postfix(self, node: A.Node) -> A.Node:
        while True:
            if self.at(".") or self.at("->"):
                arrow = self.take().text == "->"
                name = self.tok
                if name.kind not in ("ident", "int"):
                    raise self.unexpected()
                self.take()
                node = A.Field(_span(node.loc, name.loc), node, name.text, arrow)
            elif self.at("["):
                self.take()
                index = self.expr()
                end = self.expect("]")
                node = A.Index(_span(node.loc, end.loc), node, index)
            else:
                return node

    def args(self) -> tuple[list[A.Node], Token]:
        self.expect("(")
        saved, self.no_div = self.no_div, False
        args: list[A.Node] = []
        while not self.at(")"):
            args.append(self.expr())
            if not self.at(")"):
                self.expect(",", ') or ","')
        self.no_div = saved
        return args, self.take()

    def primary(self) -> A.Node:
        t = self.tok
        if t.kind == "int":
            self.take()
            return A.Int(t.loc, int(t.value))  # type: ignore[call-overload]
        if t.kind == "str":
            self.take()
            return A.Str(t.loc, str(t.value))
        if t.kind == "var":
            self.take()
            return A.Var(t.loc, t.text)
        if t.kind == "map":
            self.take()
            if self.at("["):
                self.take()
                saved, self.no_div = self.no_div, False
                keys = [self.expr()]
                while self.at(","):
                    self.take()
                    keys.append(self.expr())
                self.no_div = saved
                end = self.expect("]")
                return A.MapRef(_span(t.loc, end.loc), t.text, keys)
            return A.MapRef(t.loc, t.text)
        if t.kind == "ident" and t.text == "sizeof" and self.peek().text == "(":
            return self.sizeof()
        if t.kind == "ident" and t.text == "offsetof" and self.peek().text == "(":
            # bpftrace 0.17 parses offsetof(struct X, field) and knows no such function
            self.take()
            depth = 0
            while not (depth == 1 and self.at(")")) and self.tok.kind != "eof":
                depth += 1 if self.at("(") else -1 if self.at(")") else 0
                self.take()
            end = self.expect(")")
            return A.Call(_span(t.loc, end.loc), t.text, [])
        if t.kind == "ident":
            self.take()
            if self.at("("):
                args, end = self.args()
                return A.Call(_span(t.loc, end.loc), t.text, args)
            return A.Builtin(t.loc, t.text)
        if self.at("("):
            self.take()
            saved, self.no_div = self.no_div, False
            first = self.expr()
            if self.at(","):
                elems = [first]
                while self.at(","):
                    self.take()
                    elems.append(self.expr())
                end = self.expect(")")
                self.no_div = saved
                return A.Tuple(_span(t.loc, end.loc), elems)
            self.expect(")")
            self.no_div = saved
            return first
        raise self.unexpected()


    def sizeof(self) -> A.SizeOf:
        """``sizeof(TYPE)`` or ``sizeof(EXPR)``."""
        t = self.take()
        type_name = self._cast_type()      # "(TYPE)" taken whole when it names a type
        if type_name is not None:
            from .cdefs import c_type

            words = type_name.replace("*", "").split()
            ctype = None if "*" in type_name else c_type(words, self.structs)
            end = self.toks[self.pos - 1]
            return A.SizeOf(_span(t.loc, end.loc), type_name, ctype)
        self.expect("(")
        operand = self.expr()
        end = self.expect(")")
        return A.SizeOf(_span(t.loc, end.loc), operand=operand)


def parse(text: str, filename: str = "stdin") -> A.Script:
    """The syntax tree of a bpftrace script; :class:`TraceError` in bpftrace's words."""
    try:
        return _Parser(tokenize(text)).script()
    except TraceError as err:
        raise err.located(text, filename) from None
