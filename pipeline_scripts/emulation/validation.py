"""Request validation: every request satisfies its service model's constraints.

AWS checks each request against the operation's input shape before it serves it:
required members, enum values, minimum and maximum length (strings, blobs, lists, maps),
minimum and maximum value (numbers) and the regular expression ``pattern`` of a string,
recursively through structures, lists and maps. botocore's client-side validator checks
only some of these (not ``max``, not ``pattern``) and can be switched off; the sandbox
checks all of them on the server side, as a check of the request checkpoint, so that any
client — in-process or through the sandbox server — is refused as AWS would refuse it.

A refusal is the service's validation error (``ValidationException``, or
``ValidationError`` for the query protocol and for the services whose model names it so)
with AWS's message: ``1 validation error detected: Value 'x' at 'a.b' failed to satisfy
constraint: Member must ...``. Each behaviour and the page it comes from is one line of
``docs/aws-behaviour.md`` (Request validation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from moto.core.utils import get_service_model

from pipeline_scripts.emulation.checkpoint import RequestRefused, ServiceRequest
from pipeline_scripts.emulation.java_regex import java_pattern

#: Protocols whose services answer a constraint failure with ``ValidationError``.
_QUERY_PROTOCOLS = frozenset({"query", "ec2"})
#: The error shapes a service model may declare for its own validation failures.
_VALIDATION_SHAPES = ("ValidationException", "ValidationError")


@dataclass(frozen=True)
class Violation:
    """One constraint a request's value fails, at the member path AWS names."""

    path: str
    value: object
    constraint: str

    def __str__(self) -> str:
        return (
            f"Value {_render(self.value)} at '{self.path}' failed to satisfy constraint: "
            f"{self.constraint}"
        )


def validate_request(request: ServiceRequest) -> None:
    """The checkpoint's check: refuse ``request`` if its parameters break the model."""
    model = get_service_model(request.service)
    if request.operation not in model.operation_names:
        return
    shape = model.operation_model(request.operation).input_shape
    if shape is None:
        return
    found = violations(shape, request.params)
    if found:
        raise RequestRefused(validation_error_code(request.service), message(found))


def message(found: Sequence[Violation]) -> str:
    """AWS's message for ``found``: the count, then each violation."""
    noun = "error" if len(found) == 1 else "errors"
    return f"{len(found)} validation {noun} detected: " + "; ".join(str(v) for v in found)


@cache
def validation_error_code(service: str) -> str:
    """The code ``service`` answers a constraint failure with (S3, which has no
    validation error of its own, answers InvalidArgument)."""
    model = get_service_model(service)
    for name in _VALIDATION_SHAPES:
        if name in model.shape_names:
            error = model.shape_for(name).metadata.get("error") or {}
            return str(error.get("code") or name)
    if model.protocol == "rest-xml":
        return "InvalidArgument"
    if model.protocol in _QUERY_PROTOCOLS or model.metadata.get("awsQueryCompatible") is not None:
        return "ValidationError"
    return "ValidationException"


def violations(shape: Shape, value: object, path: str = "") -> list[Violation]:
    """Every constraint of ``shape`` that ``value`` (decoded request data) fails."""
    if isinstance(shape, StructureShape):
        return _structure(shape, value, path)
    found = _own(shape, value, path)
    if isinstance(shape, ListShape) and isinstance(value, list):
        for index, item in enumerate(value, start=1):
            if item is not None:
                found += violations(shape.member, item, f"{path}.{index}.member")
    elif isinstance(shape, MapShape) and isinstance(value, Mapping):
        for key, item in value.items():
            found += violations(shape.key, key, f"{path}.{key}")
            if item is not None:
                found += violations(shape.value, item, f"{path}.{key}")
    return found


def _structure(shape: StructureShape, value: object, path: str) -> list[Violation]:
    if not isinstance(value, Mapping):
        return []
    found: list[Violation] = []
    required = set(shape.required_members)
    for name, member in shape.members.items():
        member_path = _join(path, name)
        item = value.get(name)
        if item is None:
            # A member of the URI is in every request that reaches the operation (S3
            # names its bucket in the host); only a body, query or header member can
            # be missing.
            if name in required and member.serialization.get("location") != "uri":
                found.append(Violation(member_path, None, "Member must not be null"))
            continue
        found += violations(member, item, member_path)
    return found


def _join(path: str, name: str) -> str:
    """AWS names a member by its name with the first letter in lower case."""
    member = name[:1].lower() + name[1:]
    return f"{path}.{member}" if path else member


def _own(shape: Shape, value: object, path: str) -> list[Violation]:
    """The constraints on ``value`` itself: enum, length, value and pattern."""
    metadata = shape.metadata
    found: list[Violation] = []
    enum = metadata.get("enum")
    if enum and isinstance(value, str) and value not in enum:
        found.append(
            Violation(path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        )
    length = _length(shape, value)
    if length is not None:
        found += _bounds(path, value, length, metadata, "length")
    elif shape.type_name in ("integer", "long", "float", "double") and isinstance(
        value, int | float
    ):
        found += _bounds(path, value, value, metadata, "value")
    pattern = metadata.get("pattern")
    if pattern and isinstance(value, str) and not java_pattern(pattern).fullmatch(value):
        found.append(
            Violation(path, value, f"Member must satisfy regular expression pattern: {pattern}")
        )
    return found


def _length(shape: Shape, value: object) -> int | None:
    """The length AWS bounds: characters, bytes, list items or map entries."""
    if shape.type_name == "string" and isinstance(value, str):
        return len(value)
    if shape.type_name == "blob" and isinstance(value, bytes | bytearray | str):
        return len(value)
    if shape.type_name in ("list", "map") and isinstance(value, list | Mapping):
        return len(value)
    return None


def _bounds(
    path: str, value: object, measure: float, metadata: Mapping[str, Any], kind: str
) -> list[Violation]:
    found = []
    low, high = metadata.get("min"), metadata.get("max")
    if low is not None and measure < low:
        found.append(
            Violation(path, value, f"Member must have {kind} greater than or equal to {low}")
        )
    if high is not None and measure > high:
        found.append(
            Violation(path, value, f"Member must have {kind} less than or equal to {high}")
        )
    return found


def _render(value: object) -> str:
    """The value as AWS quotes it: ``null``, or its text in single quotes."""
    if value is None:
        return "null"
    if isinstance(value, bytes | bytearray):
        text = f"java.nio.HeapByteBuffer[size={len(value)}]"
    elif isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, Mapping):
        text = "{" + ", ".join(f"{k}={_plain(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list):
        text = "[" + ", ".join(_plain(v) for v in value) + "]"
    else:
        text = str(value)
    return f"'{text}'"


def _plain(value: object) -> str:
    rendered = _render(value)
    return rendered[1:-1] if rendered != "null" else rendered
