"""A realistic history for one group: three approvals that shipped, a guardrail rollback in
production, a smoke-test failure in staging, a rejection that rolled production back, a
gate refusal and a deployment still running."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipeline_scripts.history.rows import HistoryRow, RollbackTarget

GROUP = "house-price-linear-learner"
ARN = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{GROUP}/"
GENERATED_AT = datetime(2026, 1, 6, 18, 0, tzinfo=UTC)
EXECUTIONS = {
    "v1": "0f8c2d1e-5b7a-4c93-8e21-6a4d3b2c1f01",
    "v2": "7a1e9c44-2f3b-4d8e-9c10-5b6a7d8e9f02",
    "v2-rollback": "c3d4e5f6-1a2b-4c3d-8e9f-0a1b2c3d4e03",
    "v3": "9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c04",
    "v4": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f05",
    "v4-rejected": "e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a06",
    "v6": "4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b07",
}
#: Approval descriptions are free text; one of them tries to inject markup.
HOSTILE_DESCRIPTION = '<script>alert("owned")</script> MAE 3.1k & R² 0.91'


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def row(version: int, **fields: Any) -> HistoryRow:
    values: dict[str, Any] = {
        "group": GROUP,
        "version": version,
        "model_package_arn": f"{ARN}{version}",
        "registrant": "alice (data science)",
        "approver": "bob.reviewer",
        "approval_description": None,
        "approval_time": None,
        "execution_id": None,
        "trigger": "approval",
        "stage": None,
        "result": "deployed",
        "reason": None,
        "rollback_target": None,
        "started": None,
        "ended": None,
    }
    values.update(fields)
    return HistoryRow(**values)


def sample_rows() -> list[HistoryRow]:
    v1 = {"approval_description": "Baseline; MAE 3.4k", "approval_time": at(5, 1, 0)}
    v2 = {"approval_description": HOSTILE_DESCRIPTION, "approval_time": at(5, 8, 0)}
    v3 = {"approval_description": "Retrained on December data", "approval_time": at(5, 15, 0)}
    v4 = {
        "approver": "carol.lead",
        "approval_description": "New features; fairness report ok",
        "approval_time": at(6, 0, 30),
    }
    v4_rejection = {
        "approver": "erin.risk",
        "approval_description": "Rejected: p99 latency regression in shadow traffic",
        "approval_time": at(6, 9, 0),
    }
    return [
        row(
            1,
            **v1,
            execution_id=EXECUTIONS["v1"],
            stage="staging",
            started=at(5, 1, 5),
            ended=at(5, 2, 10),
        ),
        row(
            1,
            **v1,
            execution_id=EXECUTIONS["v1"],
            stage="production",
            started=at(5, 2, 15),
            ended=at(5, 4, 0),
        ),
        row(
            2,
            **v2,
            execution_id=EXECUTIONS["v2"],
            stage="staging",
            started=at(5, 8, 5),
            ended=at(5, 9, 10),
        ),
        row(
            2,
            **v2,
            execution_id=EXECUTIONS["v2"],
            stage="production",
            result="rolled-back",
            reason="Deploy: guardrail rolled traffic back; alarm "
            f"greenlight-{GROUP}-production-5xx in ALARM",
            rollback_target=RollbackTarget(version=1, execution_id=EXECUTIONS["v1"][:8]),
            started=at(5, 9, 15),
            ended=at(5, 10, 0),
        ),
        row(
            1,
            **v1,
            execution_id=EXECUTIONS["v2-rollback"],
            stage="production",
            trigger="automated-rollback",
            rollback_target=RollbackTarget(version=1, execution_id=EXECUTIONS["v1"][:8]),
            reason="stage rollback after v2 failed",
            started=at(5, 10, 0),
            ended=at(5, 10, 20),
        ),
        row(
            3,
            **v3,
            execution_id=EXECUTIONS["v3"],
            stage="staging",
            result="failed",
            reason="SmokeTest: expected 1 CSV column, got 0 (HTTP 200, text/csv)",
            started=at(5, 15, 5),
            ended=at(5, 15, 40),
        ),
        row(
            4,
            **v4,
            execution_id=EXECUTIONS["v4"],
            stage="staging",
            started=at(6, 0, 35),
            ended=at(6, 1, 40),
        ),
        row(
            4,
            **v4,
            execution_id=EXECUTIONS["v4"],
            stage="production",
            started=at(6, 1, 45),
            ended=at(6, 3, 30),
        ),
        row(
            4,
            **v4_rejection,
            execution_id=EXECUTIONS["v4-rejected"],
            stage="production",
            trigger="rejection-rollback",
            result="rolled-back",
            reason="v4 rejected by erin.risk while live",
            rollback_target=RollbackTarget(version=1, execution_id=EXECUTIONS["v1"][:8]),
            started=at(6, 9, 2),
            ended=at(6, 9, 40),
        ),
        row(
            5,
            registrant="frank.ds",
            approver="frank.ds",
            approval_description="self-approved by mistake",
            approval_time=at(6, 11, 0),
            result="gate-rejected",
            reason="separation of duties: approver frank.ds registered this version",
        ),
        row(
            6,
            approval_description="Hotfix for null zip codes",
            approval_time=at(6, 16, 30),
            execution_id=EXECUTIONS["v6"],
            stage="staging",
            result="in-progress",
            started=at(6, 16, 32),
        ),
    ]
