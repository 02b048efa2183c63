"""The typed SageMaker state-change event."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.events import MalformedEvent, event_id_of, parse_state_change

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _recorded(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def test_the_recorded_approved_event_parses_into_the_fields_the_trigger_needs() -> None:
    # GIVEN the recorded Approved event
    event = _recorded("model_package_approved.json")

    # WHEN it is parsed
    change = parse_state_change(event)

    # THEN the model carries the exact ARN, the version and the times
    assert change.event_id == "6f1c4bb2-8a5e-4a3c-9d0e-1f2a3b4c5d6e"
    assert change.arn == event["detail"]["ModelPackageArn"]
    assert (change.group, change.version) == ("house-price-linear-learner", 1)
    assert change.approval_status == "Approved"
    assert change.time == datetime(2026, 1, 5, 9, 15, tzinfo=UTC)
    assert change.last_modified == datetime(2026, 1, 5, 9, 15, tzinfo=UTC)
    assert (change.account, change.region) == ("123456789012", "us-east-1")


def test_the_recorded_creation_event_parses_as_pending() -> None:
    change = parse_state_change(_recorded("model_package_created_pending.json"))
    assert change.approval_status == "PendingManualApproval"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.pop("id"), "event.id: missing"),
        (
            lambda e: e.update(source="aws.s3"),
            "event.source: expected 'aws.sagemaker', got 'aws.s3'",
        ),
        (
            lambda e: e.update(time="yesterday"),
            "event.time: expected an ISO 8601 time, got 'yesterday'",
        ),
        (lambda e: e.update(detail=[]), "event.detail: expected an object"),
        (
            lambda e: e["detail"].pop("ModelPackageGroupName"),
            "event.detail.ModelPackageGroupName: missing",
        ),
        (
            lambda e: e["detail"].update(ModelPackageVersion=True),
            "event.detail.ModelPackageVersion: expected a positive integer, got True",
        ),
        (
            lambda e: e["detail"].update(ModelPackageArn="arn:aws:s3:::bucket"),
            "event.detail.ModelPackageArn: not a model package version ARN: 'arn:aws:s3:::bucket'",
        ),
        (
            lambda e: e["detail"].update(ModelPackageVersion=2),
            "event.detail.ModelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:"
            "model-package/house-price-linear-learner/1' does not name "
            "house-price-linear-learner/2 (ModelPackageGroupName/ModelPackageVersion)",
        ),
        (
            lambda e: e["detail"].update(ModelApprovalStatus=""),
            "event.detail.ModelApprovalStatus: expected a non-empty string, got ''",
        ),
        (
            lambda e: e["detail"].update(LastModifiedTime="noon"),
            "event.detail.LastModifiedTime: expected epoch milliseconds, got 'noon'",
        ),
    ],
)
def test_a_malformed_event_is_refused_with_a_message_naming_the_field(
    mutate: Any, message: str
) -> None:
    # GIVEN the recorded event with one field broken
    event = copy.deepcopy(_recorded("model_package_approved.json"))
    mutate(event)

    # WHEN it is parsed THEN the error names that field
    with pytest.raises(MalformedEvent) as raised:
        parse_state_change(event)
    assert str(raised.value) == message


def test_an_event_without_an_id_gets_a_stable_digest_id() -> None:
    # GIVEN the same id-less event twice
    event = _recorded("model_package_approved.json")
    event.pop("id")

    # THEN both deliveries map to the same digest id, and a different body to another
    assert event_id_of(event) == event_id_of(copy.deepcopy(event))
    assert event_id_of(event).startswith("malformed-")
    assert event_id_of(event) != event_id_of({**event, "time": "x"})
    assert event_id_of(_recorded("model_package_approved.json")) == (
        "6f1c4bb2-8a5e-4a3c-9d0e-1f2a3b4c5d6e"
    )
