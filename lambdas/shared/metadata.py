"""Text Greenlight writes back to the model registry, made a value SageMaker accepts.

A ``CustomerMetadataProperties`` value must match ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`` and be
1 to 256 characters long (UpdateModelPackage's API reference; see
``docs/aws-behaviour.md``). SageMaker refuses the whole update otherwise, so every value
the functions write back passes through ``metadata_value`` first: gate refusals, which
are free text with ``(``, ``,`` and ``;``, and the recorder's execution ids and times.
"""

from __future__ import annotations

import unicodedata
from typing import Final

METADATA_VALUE_MAX: Final = 256
#: Punctuation the value pattern allows besides letters, separators and digits.
_ALLOWED_PUNCTUATION: Final = frozenset("_.:/=+-@")
#: Brackets and commas go without a trace: "report(s)" reads "reports".
_DROPPED: Final = frozenset("()[]{}<>,")
#: A clause separator keeps separating.
_REPLACED: Final = {";": " / "}
#: What an empty text becomes: the minimum length is 1.
_EMPTY: Final = "-"


def metadata_value(text: str) -> str:
    """``text`` as a value SageMaker accepts: each character the pattern refuses is
    dropped (brackets, commas), made `` / `` (semicolons) or a space (the rest); runs of
    spaces become one; at most 256 characters; never empty."""
    cleaned = "".join(_allowed(char) for char in text)
    value = " ".join(part for part in cleaned.split(" ") if part)
    return value[:METADATA_VALUE_MAX].rstrip() or _EMPTY


def _allowed(char: str) -> str:
    category = unicodedata.category(char)[0]
    if char in _ALLOWED_PUNCTUATION or category in "LN":
        return char
    if category == "Z":
        return " "
    if char in _DROPPED:
        return ""
    return _REPLACED.get(char, " ")
