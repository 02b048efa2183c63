"""Operator actions keep the trigger's promises: ``greenlight rollback`` and ``greenlight
redeploy`` deploy only an Approved version, each records who ran it and why, and a live
version that has since been Rejected is flagged in ``status`` and ``history``."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from pipeline_world import (
    APPROVER_KEY,
    GROUP,
    PipelineWorld,
    common_flags,
    open_world,
    topic_flags,
)

from pipeline_scripts import cli
from pipeline_scripts.errors import EXIT_REFUSED, EXIT_USAGE
from shared import contract
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
    # AND the history shows the refused request as a skipped row of production
    (row,) = [r for r in _json_rows(world, capsys) if r["result"] == "skipped"]
    assert (row["version"], row["stage"], row["trigger"], row["execution_id"]) == (
        2,
        "production",
        contract.REASON_MANUAL_ROLLBACK,
        None,
    )
    assert (row["operator"], row["operator_reason"]) == (OPERATOR, "put v2 back")
    assert row["reason"] == f"{v2} is Rejected, not Approved"


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
    # AND the history shows the refused request, with who asked and why
    (row,) = [r for r in _json_rows(world, capsys) if r["result"] == "skipped"]
    assert (row["version"], row["trigger"], row["stage"]) == (1, contract.REASON_REDEPLOY, None)
    assert (row["operator"], row["operator_reason"]) == (OPERATOR, "try again")


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


def test_redeploy_records_the_operator_and_reason_and_history_and_status_show_them(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 deployed
    world.deploy(world.register())

    # WHEN the operator redeploys it, and it runs everywhere
    code, _, _ = _run(
        capsys, "redeploy", GROUP, "1", "--reason", "new instance type", *topic_flags(world)
    )
    (outcome,) = _cli_outcomes(world, "cli-redeploy-")
    assert outcome.pipeline_execution_id is not None
    world.run_everywhere(outcome.pipeline_execution_id)

    # THEN the ledger keeps who ran it and why
    assert code == 0
    assert (outcome.operator, outcome.operator_reason) == (OPERATOR, "new instance type")
    # AND the history's rows of that execution show them
    rows = [r for r in _json_rows(world, capsys) if r["trigger"] == contract.REASON_REDEPLOY]
    assert {(r["stage"], r["operator"], r["operator_reason"]) for r in rows} == {
        ("staging", OPERATOR, "new instance type"),
        ("production", OPERATOR, "new instance type"),
    }
    # AND the table names them: in full with --wide, and within 120 columns without
    _, out, _ = _run(capsys, "history", GROUP, "--wide", *common_flags(world))
    wide = [re.split(r"\s{2,}", line) for line in out.splitlines()]
    assert wide[0][-2:] == ["REASON", "OPERATOR"]
    assert [line[-2:] for line in wide[1:]].count(["new instance type", OPERATOR_KEY]) == 2
    _, out, _ = _run(capsys, "history", GROUP, *common_flags(world))
    assert max(len(line) for line in out.splitlines()) <= 120
    lines = out.split("\n\n")[0].splitlines()  # the rows, before the summary
    assert [line.endswith(" -") for line in lines[1:]] == [True, True, False, False]
    # AND the HTML table names them in the trigger cell of those rows
    _, out, _ = _run(capsys, "history", GROUP, "--format", "html", *common_flags(world))
    cell = (
        f'<td class="trigger">redeploy<span class="operator" title="{OPERATOR}">'
        f'by {OPERATOR_KEY}</span><span class="why">new instance type</span></td>'
    )
    assert out.count(cell) == 2
    # AND status names them beside the live version
    _, out, _ = _run(capsys, "status", GROUP, *common_flags(world))
    assert f"redeployed by {OPERATOR}: new instance type; last: deployed v1" in out


def test_rollback_records_the_operator_and_reason_and_history_and_status_show_them(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 then v2 deployed everywhere
    world.deploy(world.register())
    world.deploy(world.register())

    # WHEN the operator rolls production back, and the rollback runs
    code, _, _ = _run(
        capsys, "rollback", GROUP, "--stage", "production", "--reason", "latency up 30%",
        *topic_flags(world),
    )  # fmt: skip
    (outcome,) = _cli_outcomes(world, "cli-rollback-")
    (started,) = outcome.rollbacks
    _run_to_end(world, started.execution_id, "production")

    # THEN the ledger keeps who ran it and why
    assert code == 0
    assert (outcome.operator, outcome.operator_reason) == (OPERATOR, "latency up 30%")
    # AND both history rows of the rollback (v1 put back, v2 taken out) show them
    rows = [r for r in _json_rows(world, capsys) if r["execution_id"] == started.execution_id]
    assert {(r["version"], r["result"]) for r in rows} == {(1, "deployed"), (2, "rolled-back")}
    assert {(r["operator"], r["operator_reason"]) for r in rows} == {(OPERATOR, "latency up 30%")}
    # AND status names them beside the live version
    _, out, _ = _run(capsys, "status", GROUP, *common_flags(world))
    (production,) = [line for line in out.splitlines() if line.startswith("  production (")]
    assert f"rolled back by {OPERATOR}: latency up 30%; last: rolled back to v1" in production


def test_history_of_an_approval_leaves_the_operator_columns_empty(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 deployed by its approval alone
    world.deploy(world.register())

    # WHEN the history is read
    rows = _json_rows(world, capsys)

    # THEN no row names an operator
    assert {(r["operator"], r["operator_reason"]) for r in rows} == {(None, None)}


# --- a live version rejected since -------------------------------------------------------


def test_a_live_version_rejected_since_is_flagged_in_status(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 live everywhere, then rejected with nothing earlier to roll back to
    v1 = world.register()
    world.deploy(v1)
    _reject(world, v1)

    # WHEN status is asked for
    code, out, _ = _run(capsys, "status", GROUP, *common_flags(world))

    # THEN each stage flags v1 as Rejected, with a warning line each
    lines = out.splitlines()
    assert code != 0
    for stage in ("staging", "production"):
        (line,) = [x for x in lines if x.startswith(f"  {stage} (")]
        assert "v1 live since " in line
        assert ", REJECTED since;" in line
        assert (
            f"WARNING: {stage}: v1 is live but Rejected in the registry "
            f"(put an Approved version back with greenlight rollback)"
        ) in lines


def test_a_live_version_rejected_since_is_flagged_in_every_history_format(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 live everywhere, then v2 live in staging only; v2 is then rejected
    # without the trigger acting on it (as when the rejection found nothing to go back to)
    world.deploy(world.register())
    v2 = world.register()
    outcome = world.approve(v2)
    assert outcome.pipeline_execution_id is not None
    execution = outcome.pipeline_execution_id
    world.start(execution)
    world.run_stage(execution, "staging")
    world.await_approval(execution, "production")
    _reject(world, v2, handle=False)

    # WHEN the history is read as JSON
    rows = _json_rows(world, capsys)

    # THEN only the row of v2 live in staging is flagged
    flagged = [(r["version"], r["stage"]) for r in rows if r["live_rejected"]]
    assert flagged == [(2, "staging")]
    # AND CSV has the column, the table and the HTML mark the row
    _, out, _ = _run(capsys, "history", GROUP, "--format", "csv", *common_flags(world))
    csv_rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["version"], r["stage"]) for r in csv_rows if r["live_rejected"] == "True"] == [
        ("2", "staging")
    ]
    _, out, _ = _run(capsys, "history", GROUP, "--wide", *common_flags(world))
    (marked,) = [line for line in out.splitlines() if "LIVE, REJECTED" in line]
    assert marked.startswith("v2 ")
    _, out, _ = _run(capsys, "history", GROUP, "--format", "html", *common_flags(world))
    assert out.count('class="badge live-rejected"') == 1
    assert '<span class="rejected">Rejected since</span>' in out


def test_status_names_the_approver_whose_approval_started_the_version_not_a_later_editor(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 approved and deployed, then redeployed by an operator
    arn = world.register()
    world.deploy(arn)
    code, _, _ = _run(capsys, "redeploy", GROUP, "1", "--reason", "refresh", *topic_flags(world))
    (outcome,) = _cli_outcomes(world, "cli-redeploy-")
    assert (code, outcome.pipeline_execution_id is not None) == (0, True)
    world.run_everywhere(str(outcome.pipeline_execution_id))
    # AND someone else edits its metadata, and the trigger skips the re-emitted event
    editor = boto3.client(
        "sagemaker",
        region_name="us-east-1",
        aws_access_key_id="AKIAMETADATAEDITOR01",
        aws_secret_access_key="testing",
    )
    editor.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"team": "x"})
    world.trigger.handle(world.approved_event(arn))

    # WHEN status is asked for
    _, out, _ = _run(capsys, "status", GROUP, *common_flags(world))

    # THEN the approver is who approved v1, not the later editor
    assert "AKIAMETADATAEDITOR01" not in out
    assert f"approved by arn:aws:iam::123456789012:user/{APPROVER_KEY}, redeployed by" in out
