"""``greenlight rollback`` and ``greenlight redeploy`` on moto and the emulated
CodePipeline, through plain boto3."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pipeline_world import GROUP, STAGES, PipelineWorld, open_world, topic_flags

from pipeline_scripts import cli
from pipeline_scripts.errors import EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_USAGE
from shared import contract, ledger

pytestmark = pytest.mark.integration


def operator_flags(world: PipelineWorld) -> list[str]:
    """The world's flags and the reason every operator action gives."""
    return [*topic_flags(world), "--reason", "on-call check"]


@pytest.fixture
def world() -> Iterator[PipelineWorld]:
    with open_world() as opened:
        yield opened


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _newest(world: PipelineWorld) -> dict[str, str]:
    summary = world.codepipeline.list_pipeline_executions(pipelineName=world.pipeline)[
        "pipelineExecutionSummaries"
    ][0]
    execution = world.codepipeline.get_pipeline_execution(
        pipelineName=world.pipeline, pipelineExecutionId=summary["pipelineExecutionId"]
    )["pipelineExecution"]
    return {
        "id": execution["pipelineExecutionId"],
        "type": execution["executionType"],
        "trigger": execution["trigger"]["triggerType"],
        "target": execution.get("rollbackMetadata", {}).get(
            "rollbackTargetPipelineExecutionId", ""
        ),
        **{v["name"]: v["resolvedValue"] for v in execution["variables"]},
    }


# --- rollback ------------------------------------------------------------------------------


def test_rollback_rolls_the_stage_back_to_the_version_live_before(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 then v2 deployed everywhere
    first = world.deploy(world.register())
    world.deploy(world.register())

    # WHEN the operator rolls production back
    code, out, _ = _run(capsys, "rollback", GROUP, "--stage", "production", *operator_flags(world))

    # THEN CodePipeline rolls production back to v1's execution, and the ledger says so
    newest = _newest(world)
    assert code == 0
    assert (newest["type"], newest["trigger"], newest["target"]) == (
        "ROLLBACK",
        "ManualRollback",
        first,
    )
    assert newest[contract.VAR_MODEL_PACKAGE_VERSION] == "1"
    assert out == (
        f"rolling production back to v1 (execution {first}): rollback execution {newest['id']}\n"
    )
    (recorded,) = [
        o for o in world.ledger.outcomes(GROUP) if o.event_id.startswith("cli-rollback-")
    ]
    assert recorded.outcome == ledger.OUTCOME_ROLLBACK_STARTED
    assert recorded.pipeline_execution_id == newest["id"]
    assert recorded.trigger_reason == contract.REASON_MANUAL_ROLLBACK


def test_rollback_records_the_rollback_execution_it_started_as_data(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 then v2 deployed everywhere
    v1 = world.register()
    first = world.deploy(v1)
    world.deploy(world.register())

    # WHEN the operator rolls production back
    code, _, _ = _run(capsys, "rollback", GROUP, "--stage", "production", *operator_flags(world))

    # THEN the outcome lists the rollback execution, its stage and what it puts back
    newest = _newest(world)
    (recorded,) = [
        o for o in world.ledger.outcomes(GROUP) if o.event_id.startswith("cli-rollback-")
    ]
    assert code == 0
    assert recorded.rollbacks == (
        ledger.RollbackStart(
            stage="production",
            execution_id=newest["id"],
            target_execution_id=first,
            target_version=1,
            target_arn=v1,
        ),
    )


def test_rollback_to_a_version_that_never_succeeded_there_starts_a_new_execution_of_it(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 failed in staging (never reached production), then v2 deployed everywhere
    v1 = world.register()
    outcome = world.approve(v1)
    assert outcome.pipeline_execution_id is not None
    world.start(outcome.pipeline_execution_id)
    world.run_stage(outcome.pipeline_execution_id, STAGES[0], fail="SmokeTest")
    world.deploy(world.register())

    # WHEN the operator rolls production back to v1
    code, out, _ = _run(
        capsys,
        "rollback",
        GROUP,
        "--stage",
        "production",
        "--to-version",
        "1",
        *operator_flags(world),
    )

    # THEN a new standard execution of v1 starts, recorded as a manual rollback
    newest = _newest(world)
    assert code == 0
    assert newest["type"] == "STANDARD"
    assert newest[contract.VAR_MODEL_PACKAGE_ARN] == v1
    assert newest[contract.VAR_TRIGGER_REASON] == contract.REASON_MANUAL_ROLLBACK
    assert out.endswith(f"started execution {newest['id']}\n")
    (recorded,) = [
        o for o in world.ledger.outcomes(GROUP) if o.pipeline_execution_id == newest["id"]
    ]
    assert recorded.trigger_reason == contract.REASON_MANUAL_ROLLBACK


def test_rollback_to_the_live_version_changes_nothing_and_says_so(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 live everywhere
    world.deploy(world.register())

    # WHEN the operator rolls staging back to v1
    code, out, _ = _run(
        capsys, "rollback", GROUP, "--stage", "staging", "--to-version", "1", *operator_flags(world)
    )

    # THEN nothing starts
    assert (code, out) == (0, "v1 is already live in staging; nothing to roll back\n")
    assert (
        len(
            world.codepipeline.list_pipeline_executions(pipelineName=world.pipeline)[
                "pipelineExecutionSummaries"
            ]
        )
        == 1
    )


def test_rollback_with_nothing_earlier_is_one_line_and_exit_3(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN only v1 ever deployed
    world.deploy(world.register())

    # WHEN the operator rolls production back without a version
    code, _, err = _run(capsys, "rollback", GROUP, "--stage", "production", *operator_flags(world))

    # THEN one line says there is nothing to go back to
    assert code == EXIT_NOT_FOUND
    assert err.splitlines() == [
        f"greenlight: no earlier version succeeded in production of {GROUP}"
    ]


def test_rollback_of_an_unknown_stage_is_one_line_naming_the_stages(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the stage is not one of the group's
    code, _, err = _run(capsys, "rollback", GROUP, "--stage", "prod", *operator_flags(world))

    # THEN one line names it and the stages there are
    assert code == EXIT_NOT_FOUND
    assert err.splitlines() == [
        f"greenlight: stage 'prod' is not a stage of group {GROUP} (stages: staging, production)"
    ]


def test_rollback_to_a_version_that_is_not_a_number_is_exit_2(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN --to-version is not a number
    code, _, err = _run(
        capsys,
        "rollback",
        GROUP,
        "--stage",
        "staging",
        "--to-version",
        "v1",
        *operator_flags(world),
    )

    # THEN one line says what a version is
    assert code == EXIT_USAGE
    assert err.splitlines() == [
        "greenlight: --to-version must be a whole number of 1 or more, got 'v1'"
    ]


# --- redeploy ------------------------------------------------------------------------------


def test_redeploy_starts_a_second_execution_of_an_approved_version_recorded_as_redeploy(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 approved and deployed once
    arn = world.register()
    first = world.deploy(arn)

    # WHEN the operator redeploys v1
    code, out, _ = _run(capsys, "redeploy", GROUP, "1", *operator_flags(world))

    # THEN a second execution of the same ARN starts with reason redeploy
    newest = _newest(world)
    assert code == 0
    assert newest["id"] != first
    assert newest[contract.VAR_MODEL_PACKAGE_ARN] == arn
    assert newest[contract.VAR_TRIGGER_REASON] == contract.REASON_REDEPLOY
    assert out == f"redeploy of {GROUP} v1: started execution {newest['id']}\n"


def test_redeploy_of_a_version_that_is_not_approved_is_refused_with_exit_4(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a version still pending approval
    world.register()

    # WHEN the operator redeploys it
    code, _, err = _run(capsys, "redeploy", GROUP, "1", *operator_flags(world))

    # THEN it is refused in one line and nothing starts
    assert code == EXIT_REFUSED
    assert len(err.splitlines()) == 1
    assert err.startswith(f"greenlight: redeploy of {GROUP} v1 refused (skipped-not-approved): ")
    assert (
        world.codepipeline.list_pipeline_executions(pipelineName=world.pipeline)[
            "pipelineExecutionSummaries"
        ]
        == []
    )


def test_redeploy_of_an_unknown_version_is_one_line_and_exit_3(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the version does not exist
    code, _, err = _run(capsys, "redeploy", GROUP, "7", *operator_flags(world))

    # THEN one line names it
    assert code == EXIT_NOT_FOUND
    assert err.splitlines() == [f"greenlight: model package group {GROUP!r} has no version 7"]


@pytest.mark.parametrize("command", ["status", "rollback", "redeploy"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN help is asked for
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])

    # THEN it exits 0 with a usage line for the command
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: greenlight {command}")
