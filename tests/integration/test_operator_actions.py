"""Operator actions keep the trigger's promises: ``greenlight rollback`` and ``greenlight
redeploy`` deploy only an Approved version, each records who ran it and why, and a live
version that has since been Rejected is flagged in ``status`` and ``history``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from pipeline_world import (
    GROUP,
    PipelineWorld,
    common_flags,
    open_world,
    topic_flags,
)

from pipeline_scripts import cli
from pipeline_scripts.errors import EXIT_REFUSED, EXIT_USAGE
from shared.ledger import OUTCOME_SKIPPED_NOT_APPROVED, Outcome

pytestmark = pytest.mark.integration

OPERATOR_KEY = "AKIAOPERATOR00000001"
OPERATOR = f"arn:aws:iam::123456789012:user/{OPERATOR_KEY}"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineWorld]:
    with open_world() as opened:
        # The CLI runs with the operator's key, as a person at a terminal would.
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", OPERATOR_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        boto3.setup_default_session()
        yield opened
    boto3.DEFAULT_SESSION = None


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _executions(world: PipelineWorld) -> list[str]:
    return [
        s["pipelineExecutionId"]
        for s in world.codepipeline.list_pipeline_executions(pipelineName=world.pipeline)[
            "pipelineExecutionSummaries"
        ]
    ]


def _reject(world: PipelineWorld, arn: str, *, handle: bool = True) -> None:
    """Reject ``arn`` as the approver; the trigger handles the event (and the rollbacks it
    starts run to the end) unless told not to."""
    world.clock.advance(30)
    world.approver.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Rejected", ApprovalDescription="PII leak"
    )
    if handle:
        outcome = world.trigger.handle(world.approved_event(arn))
        for started in outcome.rollbacks:
            _run_to_end(world, started.execution_id, started.stage)


def _cli_outcomes(world: PipelineWorld, prefix: str) -> list[Outcome]:
    return [o for o in world.ledger.outcomes(GROUP) if o.event_id.startswith(prefix)]


def _run_to_end(world: PipelineWorld, execution_id: str, stage: str) -> None:
    world.start(execution_id)
    world.run_stage(execution_id, stage)
    world.finish(execution_id)


def _json_rows(world: PipelineWorld, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, out, err = _run(capsys, "history", GROUP, "--format", "json", *common_flags(world))
    assert (code, err) == (0, "")
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


# --- only Approved versions, by one rule -----------------------------------------------


def test_rollback_to_a_rejected_version_is_refused_with_exit_4_and_deploys_nothing(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 then v2 live everywhere, and v2 rejected (the trigger rolled it back to v1)
    world.deploy(world.register())
    v2 = world.register()
    world.deploy(v2)
    _reject(world, v2)
    before = _executions(world)

    # WHEN the operator rolls production back to v2
    code, out, err = _run(
        capsys,
        "rollback",
        GROUP,
        "--stage",
        "production",
        "--to-version",
        "2",
        "--reason",
        "put v2 back",
        *topic_flags(world),
    )

    # THEN it is refused in one line, exit 4, and no execution starts
    assert (code, out) == (EXIT_REFUSED, "")
    assert err.splitlines() == [
        f"greenlight: rollback of production to v2 refused: {v2} is Rejected, not Approved"
    ]
    assert _executions(world) == before
    # AND the refusal is recorded with who asked and why
    (refused,) = _cli_outcomes(world, "cli-rollback-")
    assert refused.outcome == OUTCOME_SKIPPED_NOT_APPROVED
    assert (refused.operator, refused.operator_reason) == (OPERATOR, "put v2 back")


def test_redeploy_of_a_rejected_version_is_refused_by_the_same_rule(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 deployed, then rejected with nothing to roll back to
    v1 = world.register()
    world.deploy(v1)
    _reject(world, v1, handle=False)
    before = _executions(world)

    # WHEN the operator redeploys it
    code, _, err = _run(
        capsys, "redeploy", GROUP, "1", "--reason", "try again", *topic_flags(world)
    )

    # THEN it is refused with the same words as the rollback, exit 4
    assert code == EXIT_REFUSED
    assert err.splitlines() == [
        f"greenlight: redeploy of {GROUP} v1 refused (skipped-not-approved): "
        f"{v1} is Rejected, not Approved"
    ]
    assert _executions(world) == before


def test_rollback_without_a_version_passes_over_a_rejected_one(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1, v2 and v3 deployed in turn, and v2 rejected since (it is no longer live)
    v1 = world.register()
    first = world.deploy(v1)
    v2 = world.register()
    world.deploy(v2)
    world.deploy(world.register())
    _reject(world, v2, handle=False)

    # WHEN the operator rolls production back without naming a version
    code, out, _ = _run(
        capsys, "rollback", GROUP, "--stage", "production", "--reason", "v3 slow",
        *topic_flags(world),
    )  # fmt: skip

    # THEN production goes back to v1, the newest earlier version still Approved
    assert code == 0
    assert out.startswith(f"rolling production back to v1 (execution {first}): ")


@pytest.mark.parametrize(
    "argv",
    [
        ["redeploy", GROUP, "1"],
        ["rollback", GROUP, "--stage", "production", "--to-version", "1"],
    ],
)
def test_rollback_and_redeploy_require_a_reason(
    argv: list[str], world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 deployed
    world.deploy(world.register())

    # WHEN an operator action runs without --reason
    with pytest.raises(SystemExit) as exited:
        cli.main([*argv, *topic_flags(world)])

    # THEN argparse refuses it, naming --reason
    assert exited.value.code == EXIT_USAGE
    assert "--reason" in capsys.readouterr().err


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_blank_reason_is_refused_with_exit_2(
    reason: str, world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the reason says nothing
    code, _, err = _run(capsys, "redeploy", GROUP, "1", "--reason", reason, *topic_flags(world))

    # THEN one line asks for one
    assert code == EXIT_USAGE
    assert err.splitlines() == ["greenlight: --reason must say why, got an empty text"]


# --- who ran it, and why -----------------------------------------------------------------


def test_redeploy_and_rollback_record_who_ran_them_and_why(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 then v2 deployed everywhere
    world.deploy(world.register())
    world.deploy(world.register())

    # WHEN the operator redeploys v2 and rolls production back
    assert _run(capsys, "redeploy", GROUP, "2", "--reason", "new AMI", *topic_flags(world))[0] == 0
    code, _, _ = _run(
        capsys, "rollback", GROUP, "--stage", "production", "--reason", "latency up 30%",
        *topic_flags(world),
    )  # fmt: skip

    # THEN each outcome keeps who ran it and why
    assert code == 0
    (redeploy,) = _cli_outcomes(world, "cli-redeploy-")
    (rollback,) = _cli_outcomes(world, "cli-rollback-")
    assert (redeploy.operator, redeploy.operator_reason) == (OPERATOR, "new AMI")
    assert (rollback.operator, rollback.operator_reason) == (OPERATOR, "latency up 30%")
