"""The README and the guides under ``docs/``, read the way the tests that run them need.

A page is Markdown. Its fenced blocks carry a language: ``console`` blocks hold
``$ greenlight …`` commands, each followed by what it prints (``…`` stands for text that
changes from run to run, and a line that is only ``…`` for any number of lines);
``python``, ``sh`` and ``json`` blocks hold what the reader pastes.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
ELLIPSIS = "…"

_FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^(?P<level>#{1,6}) (?P<title>.+)$")
#: Shell words that end one command of a line and start the next.
_SEPARATORS = frozenset({"|", "||", "&&", ";"})


def guide(name: str) -> Path:
    """The guide ``docs/<name>.md``; it must exist."""
    path = DOCS / f"{name}.md"
    if not path.is_file():
        raise LookupError(f"no guide {path.relative_to(ROOT)}")
    return path


def pages() -> list[Path]:
    """The README and every page under ``docs/``."""
    return [README, *sorted(DOCS.glob("*.md"))]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def name_of(path: Path) -> str:
    """How a message names a page: its path in the repository (or its file name)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


@dataclass(frozen=True)
class Block:
    """One fenced block: its language, the page line its fence opens on, its body."""

    lang: str
    line: int
    body: str


def blocks(text: str, lang: str | None = None) -> list[Block]:
    """The fenced blocks of ``text`` in order, only those in ``lang`` if given."""
    found = []
    for match in _FENCE.finditer(text):
        if lang is None or match["lang"] == lang:
            line = text.count("\n", 0, match.start()) + 1
            found.append(Block(match["lang"], line, match["body"]))
    return found


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of every line outside fenced blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def headings(text: str) -> list[tuple[int, str]]:
    """``(level, title)`` of every heading outside fenced blocks."""
    return [
        (len(match["level"]), match["title"].strip())
        for _, line in prose_lines(text)
        if (match := _HEADING.match(line))
    ]


def section(text: str, title: str) -> str:
    """The section whose heading starts with ``title``, up to the next heading of the
    same or a higher level."""
    lines = text.splitlines(keepends=True)
    start = level = None
    for number, line in prose_lines(text):
        match = _HEADING.match(line)
        if match is None:
            continue
        if start is None and match["title"].startswith(title):
            start, level = number, len(match["level"])
        elif start is not None and level is not None and len(match["level"]) <= level:
            return "".join(lines[start - 1 : number - 1])
    if start is None:
        raise LookupError(f"no section '{title}'")
    return "".join(lines[start - 1 :])


@dataclass(frozen=True)
class Command:
    """A ``$ greenlight …`` line of a console block and the output shown after it."""

    argv: list[str]
    shown: str
    where: str


def commands(block: Block, page: str) -> list[Command]:
    """The commands of a console block; backslash continuations are joined."""
    found: list[Command] = []
    lines = iter(block.body.splitlines())
    for text in lines:
        where = f"{page}:{block.line}"
        if text.startswith("$ "):
            command = text[2:]
            while command.endswith("\\"):
                command = command[:-1] + " " + next(lines).strip()
            argv = shlex.split(command)
            if argv[0] != "greenlight":
                raise AssertionError(f"{where}: only greenlight commands run: {command}")
            found.append(Command(argv[1:], "", f"{where}: {command}"))
        elif not found:
            raise AssertionError(f"{where}: output before any command: {text}")
        else:
            last = found[-1]
            shown = f"{last.shown}\n{text}" if last.shown else text
            found[-1] = Command(last.argv, shown, last.where)
    return found


def shell_commands(block: Block) -> list[list[str]]:
    """Every simple command of a ``sh`` block as its words, without leading variable
    assignments: ``A=1 greenlight status | jq .`` gives ``greenlight status`` and ``jq .``."""
    found: list[list[str]] = []
    for line in block.body.replace("\\\n", " ").splitlines():
        current: list[str] = []
        for word in [*shlex.split(line, comments=True), ";"]:
            if word in _SEPARATORS:
                if current:
                    found.append(current)
                current = []
            elif current or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", word):
                current.append(word)
    return found


def matches(shown: str, printed: str) -> bool:
    """Whether ``printed`` is what ``shown`` shows, ``…`` standing for what varies.

    A line that is only ``…`` matches any number of lines; ``…`` inside a line matches
    any text within that line. Wildcard matching over lines, so at worst every shown line
    is compared with every printed line once per ``…`` line: no backtracking blow-up
    when a long output does not match.
    """
    patterns, lines = shown.splitlines(), printed.splitlines()
    p = at = 0
    star, resume = -1, 0
    while at < len(lines):
        if p < len(patterns) and patterns[p].strip() == ELLIPSIS:
            star, resume = p, at
            p += 1
        elif p < len(patterns) and _line_matches(patterns[p], lines[at]):
            p += 1
            at += 1
        elif star >= 0:
            p, resume = star + 1, resume + 1
            at = resume
        else:
            return False
    return all(pattern.strip() == ELLIPSIS for pattern in patterns[p:])


def _line_matches(pattern: str, line: str) -> bool:
    first, *middle_and_last = pattern.split(ELLIPSIS)
    if not middle_and_last:
        return pattern == line
    *middle, last = middle_and_last
    end = len(line) - len(last)
    if end < len(first) or not line.startswith(first) or not line.endswith(last):
        return False
    at = len(first)
    for part in middle:
        found = line.find(part, at, end)
        if found < 0:
            return False
        at = found + len(part)
    return True
