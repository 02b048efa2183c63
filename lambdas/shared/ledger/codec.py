"""How ledger items are keyed and stored: timestamps, partition keys and DynamoDB values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def timestamp(value: datetime) -> str:
    """A sortable UTC timestamp with microseconds, e.g. ``2026-01-05T09:15:00.000000Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def group_key(group: str) -> str:
    return f"GROUP#{group}"


def package_key(arn: str) -> str:
    return f"PACKAGE#{arn}"


def optional_time(value: Any) -> datetime | None:
    return None if value is None else parse_timestamp(str(value))


def serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}
