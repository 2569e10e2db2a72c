"""README.md's command list is what `pybpf` accepts: every command and subcommand is listed,
and every listed command, subcommand and option exists."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from pybpf import cli

README = Path(__file__).resolve().parent.parent / "README.md"


def _command_lines() -> list[list[str]]:
    text = README.read_text()
    block = re.search(r"## Commands\n.*?```\n(.*?)```", text, re.S)
    assert block, "README.md has no '## Commands' block"
    lines = []
    for line in block.group(1).splitlines():
        words = shlex.split(line.split("#", 1)[0])
        if words and words[0] == "pybpf":
            lines.append(words[1:])
    return lines


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _parser_for(words: list[str]) -> tuple[argparse.ArgumentParser, list[str]]:
    """The (sub)parser the words name, and the words left."""
    parser = _subparsers(cli.build_parser(words[0]))[words[0]]
    words = words[1:]
    subs = _subparsers(parser)
    if subs:
        assert words and words[0] in subs, f"{words}: not one of {sorted(subs)}"
        parser, words = subs[words[0]], words[1:]
    return parser, words


LINES = [words for words in _command_lines() if words[0] != "TOOL"]


@pytest.mark.parametrize("words", LINES, ids=lambda w: " ".join(w[:2]))
def test_every_listed_command_and_option_exists(words: list[str]) -> None:
    assert words[0] in cli.COMMANDS, f"pybpf {words[0]}: no such command"
    parser, rest = _parser_for(words)
    known = {opt for action in parser._actions for opt in action.option_strings}
    for word in rest:
        option = word.strip("[]").split("=", 1)[0]
        if option.startswith("-"):
            assert option in known, f"pybpf {' '.join(words)}: {option} is not an option"


def test_every_command_and_subcommand_is_listed() -> None:
    listed = {tuple(words[:2]) for words in LINES} | {(words[0],) for words in LINES}
    for name in cli.COMMANDS:
        assert (name,) in listed, f"README.md does not list pybpf {name}"
        parser = _subparsers(cli.build_parser(name))[name]
        for sub in _subparsers(parser):
            assert (name, sub) in listed, f"README.md does not list pybpf {name} {sub}"
    assert ["TOOL", "[options]"] in _command_lines()
