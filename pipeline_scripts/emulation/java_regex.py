"""AWS's ``pattern`` constraints, which are Java regular expressions, in Python.

botocore's service models carry each ``pattern`` as AWS wrote it, in the syntax of
``java.util.regex`` (AWS validates requests in Java, and a value must match the WHOLE
pattern, as ``String.matches`` does). Python's ``re`` has no Unicode properties
(``\\p{L}``); the ``regex`` package has them, and agrees with Java on the rest of the
syntax the models use, save for what ``java_pattern`` rewrites:

- Java's POSIX classes (``\\p{Alnum}``, ``\\p{Print}``, ``\\p{ASCII}`` …) are US-ASCII
  only; ``regex`` reads them as Unicode properties. They become ASCII ranges.
- Java's ``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII only; they become ASCII ranges too
  (``regex.ASCII`` would do it, but would also make ``\\p{L}`` ASCII, which Java does not).
- Java's ``.`` stops at every line terminator (``\\r``, ``\\u0085``, ``\\u2028``,
  ``\\u2029``), not only at ``\\n``.
- Java strings are UTF-16: a range written with surrogate pairs
  (``\\uD800\\uDC00-\\uDBFF\\uDFFF``) means code points, here ``\\U00010000-\\U0010FFFF``.

A pattern this cannot compile raises ``UnsupportedPattern``: a constraint never passes
silently. See ``docs/aws-behaviour.md`` (Request validation).
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

import regex

Ranges = tuple[tuple[int, int], ...]

#: Java's POSIX character classes (US-ASCII), as code point ranges.
_POSIX_CLASSES: Final[dict[str, Ranges]] = {
    "Lower": ((0x61, 0x7A),),
    "Upper": ((0x41, 0x5A),),
    "ASCII": ((0x00, 0x7F),),
    "Alpha": ((0x41, 0x5A), (0x61, 0x7A)),
    "Digit": ((0x30, 0x39),),
    "Alnum": ((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)),
    "Punct": ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)),
    "Graph": ((0x21, 0x7E),),
    "Print": ((0x20, 0x7E),),
    "Blank": ((0x09, 0x09), (0x20, 0x20)),
    "Cntrl": ((0x00, 0x1F), (0x7F, 0x7F)),
    "XDigit": ((0x30, 0x39), (0x41, 0x46), (0x61, 0x66)),
    "Space": ((0x09, 0x0D), (0x20, 0x20)),
}
#: Java's shorthand classes (US-ASCII): ``\\w``, ``\\d``, ``\\s`` (upper case negates).
_SHORTHANDS: Final[dict[str, Ranges]] = {
    "w": ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)),
    "d": ((0x30, 0x39),),
    "s": ((0x09, 0x0D), (0x20, 0x20)),
}
_LAST_CODE_POINT: Final = 0x10FFFF
#: What Java's ``.`` matches: anything but a line terminator.
_JAVA_DOT: Final = "[^\\n\\r\\u0085\\u2028\\u2029]"


class UnsupportedPattern(ValueError):
    """A service model's pattern that cannot be compiled as AWS would read it."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"cannot compile the service model's pattern {pattern!r}: {reason}")
        self.pattern = pattern


@cache
def java_pattern(pattern: str) -> Any:
    """``pattern`` compiled with Java's meaning; use ``fullmatch`` as AWS does."""
    translated = _translate(pattern)
    try:
        return regex.compile(translated, regex.V0)
    except regex.error as error:
        raise UnsupportedPattern(pattern, str(error)) from None


def _translate(pattern: str) -> str:
    out: list[str] = []
    depth = 0
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            token = _escape(pattern, index)
            index += len(token)
            out.append(_escape_meaning(token, pattern, in_class=depth > 0))
            continue
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        elif char == "." and not depth:
            char = _JAVA_DOT
        out.append(char)
        index += 1
    return _join_surrogates("".join(out))


def _escape(pattern: str, index: int) -> str:
    """The escape sequence starting at ``index`` (a backslash)."""
    if index + 1 >= len(pattern):
        raise UnsupportedPattern(pattern, "a trailing backslash")
    kind = pattern[index + 1]
    if kind in "pP" and pattern[index + 2 : index + 3] == "{":
        end = pattern.find("}", index)
        if end < 0:
            raise UnsupportedPattern(pattern, "an unclosed \\p{")
        return pattern[index : end + 1]
    if kind == "u":
        return pattern[index : index + 6]
    if kind == "x":
        return pattern[index : index + 4]
    return pattern[index : index + 2]


def _escape_meaning(token: str, pattern: str, *, in_class: bool) -> str:
    if token[1] == "Q":
        raise UnsupportedPattern(pattern, "\\Q quoting")
    if token[1] in "bB":
        if in_class:
            raise UnsupportedPattern(pattern, "a word boundary inside a character class")
        return _word_boundary(negated=token[1] == "B")
    if token[1] in "pP" and token[3:-1] in _POSIX_CLASSES:
        return _ascii_class(_POSIX_CLASSES[token[3:-1]], token[1] == "P", in_class)
    if token[1].lower() in _SHORTHANDS:
        return _ascii_class(_SHORTHANDS[token[1].lower()], token[1].isupper(), in_class)
    return token


def _ascii_class(ranges: Ranges, negated: bool, in_class: bool) -> str:
    """An ASCII class as ranges (bare inside a character class, bracketed outside)."""
    chosen = _complement(ranges) if negated else ranges
    text = "".join(
        f"\\U{low:08X}" if low == high else f"\\U{low:08X}-\\U{high:08X}" for low, high in chosen
    )
    return text if in_class else f"[{text}]"


def _word_boundary(*, negated: bool) -> str:
    """Java's ``\\b`` (``\\B``): between an ASCII word character and another (not)."""
    word = _ascii_class(_SHORTHANDS["w"], False, False)
    if negated:
        return f"(?:(?<={word})(?={word})|(?<!{word})(?!{word}))"
    return f"(?:(?<={word})(?!{word})|(?<!{word})(?={word}))"


def _complement(ranges: Ranges) -> Ranges:
    gaps, start = [], 0
    for low, high in ranges:
        if low > start:
            gaps.append((start, low - 1))
        start = high + 1
    gaps.append((start, _LAST_CODE_POINT))
    return tuple(gaps)


def _join_surrogates(translated: str) -> str:
    """``\\uD800\\uDC00`` (a UTF-16 surrogate pair) as the code point it encodes."""

    def code_point(match: Any) -> str:
        high, low = int(match.group(1), 16), int(match.group(2), 16)
        point = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        return f"\\U{point:08X}"

    return str(
        regex.sub(
            r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})",
            code_point,
            translated,
            flags=regex.IGNORECASE,
        )
    )
