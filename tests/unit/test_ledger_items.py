"""Ledger items: keys, serialisation and the order their sort keys give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.ledger import (
    ACT_APPROVAL,
    OUTCOME_ROLLBACK_STARTED,
    Act,
    GroupApproval,
    Outcome,
    RollbackStart,
    parse_timestamp,
    timestamp,
)

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/house-price-linear-learner/3"
AT = datetime(2026, 1, 5, 9, 15, 0, 123456, tzinfo=UTC)


def test_an_outcome_round_trips_through_its_dynamodb_item() -> None:
    # GIVEN an outcome with per-stage details
    outcome = Outcome(
        group="house-price-linear-learner",
        event_id="e-1",
        outcome=OUTCOME_ROLLBACK_STARTED,
        reason="rejected",
        recorded_at=AT,
        model_package_arn=ARN,
        model_package_version=3,
        stages={"staging": "live; rolled back"},
        stopped_executions=("x-1",),
        attempts=2,
    )

    # WHEN it is written as an item and read back
    item = outcome.to_item()

    # THEN the keys are the documented ones and nothing is lost
    assert item["pk"] == {"S": "GROUP#house-price-linear-learner"}
    assert item["sk"] == {"S": "EVENT#e-1"}
    assert "pipelineExecutionId" not in item
    assert Outcome.from_item(item) == outcome


def test_an_outcome_keeps_the_rollback_executions_it_started_as_a_list_of_maps() -> None:
    # GIVEN a rejection outcome that started rollbacks in two stages, one target unknown
    rollbacks = (
        RollbackStart(
            stage="staging",
            execution_id="r-1",
            target_execution_id="x-0",
            target_version=2,
            target_arn=ARN.replace("/3", "/2"),
        ),
        RollbackStart(stage="production", execution_id="r-2", target_execution_id="x-0"),
    )
    outcome = Outcome(
        group="house-price-linear-learner",
        event_id="e-2",
        outcome=OUTCOME_ROLLBACK_STARTED,
        reason="rejected",
        recorded_at=AT,
        rollbacks=rollbacks,
    )

    # WHEN it is written as an item and read back
    item = outcome.to_item()

    # THEN "rollbacks" is a list of maps with the documented names, and reads back whole
    assert item["rollbacks"]["L"][1] == {
        "M": {
            "stage": {"S": "production"},
            "executionId": {"S": "r-2"},
            "targetExecutionId": {"S": "x-0"},
        }
    }
    assert item["rollbacks"]["L"][0]["M"]["targetVersion"] == {"N": "2"}
    assert Outcome.from_item(item).rollbacks == rollbacks


def test_an_outcome_item_written_before_the_rollbacks_list_reads_as_no_rollbacks() -> None:
    # GIVEN an outcome item without the "rollbacks" attribute
    item = Outcome(
        group="g", event_id="e-3", outcome=OUTCOME_ROLLBACK_STARTED, reason="r", recorded_at=AT
    ).to_item()
    assert "rollbacks" not in item

    # WHEN it is read
    outcome = Outcome.from_item(item)

    # THEN it lists no rollbacks
    assert outcome.rollbacks == ()


def test_acts_sort_by_sequence_and_round_trip() -> None:
    acts = [
        Act(arn=ARN, sequence=n, kind=ACT_APPROVAL, event_id=f"e{n}", recorded_at=AT)
        for n in (2, 10, 1)
    ]
    keys = sorted(act.key()["sk"] for act in acts)
    assert keys == ["ACT#00000001", "ACT#00000002", "ACT#00000010"]
    assert all(Act.from_item(act.to_item()) == act for act in acts)
    assert acts[0].key()["pk"] == f"PACKAGE#{ARN}"


def test_group_approvals_sort_by_approval_time() -> None:
    later = GroupApproval(
        group="g", approved_at=AT + timedelta(microseconds=1), arn=ARN, version=3, event_id="b"
    )
    earlier = GroupApproval(
        group="g", approved_at=AT - timedelta(days=400), arn=ARN, version=12, event_id="a"
    )
    assert earlier.key()["sk"] < later.key()["sk"]
    assert GroupApproval.from_item(later.to_item()) == later


def test_timestamps_are_utc_with_microseconds_and_parse_back() -> None:
    local = AT.astimezone(UTC).replace(tzinfo=UTC)
    assert timestamp(local) == "2026-01-05T09:15:00.123456Z"
    assert parse_timestamp(timestamp(AT)) == AT
