"""What the functions log and measure: Powertools JSON log lines carry the invocation's
correlation ids, and the recorder emits the deployment metrics in CloudWatch's embedded
metric format (EMF) on stdout, one line per new record."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from pipeline_world import GROUP, STAGES, PipelineWorld, open_world

import approval_trigger.handler as trigger_handler
import recorder.handler as recorder_handler
from shared import contract

pytestmark = pytest.mark.integration

Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineWorld]:
    """A pipeline world whose events reach the recorder's and trigger's Lambda handlers,
    with the registry's times (the approval's) on the world's virtual clock, as the
    pipeline events' are."""
    with open_world() as opened:
        opened._registry.clock = opened.clock
        monkeypatch.setattr(recorder_handler, "_recorders", lambda _group: opened.recorder)
        monkeypatch.setattr(trigger_handler, "_triggers", lambda _group: opened.trigger)

        def deliver(event: dict[str, Any]) -> None:
            opened.delivered.append(event)
            recorder_handler.handler(event, None)

        monkeypatch.setattr(opened, "deliver", deliver)
        yield opened


@pytest.fixture
def stdout(capsys: pytest.CaptureFixture[str]) -> Lines:
    """What the handlers wrote to stdout since the last call, one JSON object a line."""

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]

    return read


def _logs(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if "_aws" not in line]


def _metrics(lines: list[dict[str, Any]]) -> list[tuple[str, dict[str, float]]]:
    """Each EMF line as (stage, {metric: value}), after checking its namespace, its
    dimensions and that each metric has the unit it should."""
    emitted = []
    for line in lines:
        if "_aws" not in line:
            continue
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Greenlight"
        assert directive["Dimensions"] == [["Group", "Stage"]]
        assert line["Group"] == GROUP
        values: dict[str, float] = {}
        for metric in directive["Metrics"]:
            name = metric["Name"]
            assert metric["Unit"] == (
                "Seconds" if name in ("LeadTime", "TimeToRestore") else "Count"
            )
            value = line[name]  # EMF allows one value or an array of values
            (values[name],) = value if isinstance(value, list) else [value]
        emitted.append((line["Stage"], values))
    return emitted


def _time(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["time"].replace("Z", "+00:00"))


def _stage_event(world: PipelineWorld, execution_id: str, stage: str, state: str) -> datetime:
    """The time of the stage state-change event delivered for the execution."""
    (event,) = [
        e
        for e in world.delivered
        if e["detail-type"] == contract.STAGE_EXECUTION_DETAIL_TYPE
        and e["detail"]["execution-id"] == execution_id
        and e["detail"]["stage"] == stage
        and e["detail"]["state"] == state
    ]
    return _time(event)


def _approve(world: PipelineWorld, arn: str) -> tuple[str, datetime]:
    """Approve through the trigger's handler: the execution id and the approval time."""
    world.clock.advance(30)
    world.approver.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    approved_at = world.describe(arn)["LastModifiedTime"]
    result = trigger_handler.handler(world.approved_event(arn), None)
    return str(result["pipelineExecutionId"]), approved_at


# --- logs -------------------------------------------------------------------------------


def test_every_recorder_log_line_carries_the_event_execution_package_and_stage(
    world: PipelineWorld, stdout: Lines
) -> None:
    # GIVEN an approved version whose execution started
    arn = world.register()
    execution_id, _ = _approve(world, arn)
    world.start(execution_id)
    stdout()

    # WHEN the recorder's handler gets the staging stage's STARTED event
    event = world.stage_event(execution_id, STAGES[0], "STARTED")
    world.deliver(event)

    # THEN it logged JSON lines, each with the four correlation ids of this event
    logs = _logs(stdout())
    assert len(logs) >= 2
    for line in logs:
        assert line["service"] == "greenlight"
        assert line["event_id"] == event["id"]
        assert line["pipeline_execution_id"] == execution_id
        assert line["model_package_arn"] == arn
        assert line["stage"] == STAGES[0]
        assert line["group"] == GROUP


def test_trigger_log_lines_carry_the_event_and_package_and_its_last_the_execution(
    world: PipelineWorld, stdout: Lines
) -> None:
    # GIVEN a registered version
    arn = world.register()
    stdout()

    # WHEN its approval reaches the trigger's handler
    execution_id, _ = _approve(world, arn)

    # THEN every line names the event and the package, and the last the execution started
    logs = _logs(stdout())
    event = world.approved_event(arn)
    assert logs
    assert {(line["event_id"], line["model_package_arn"]) for line in logs} == {(event["id"], arn)}
    assert logs[-1]["pipeline_execution_id"] == execution_id
    assert logs[-1]["message"] == "approval event handled: started"


def test_an_invocation_leaves_no_correlation_ids_to_the_next(
    world: PipelineWorld, stdout: Lines
) -> None:
    # GIVEN a recorder invocation for a stage event
    arn = world.register()
    execution_id, _ = _approve(world, arn)
    world.start(execution_id)
    world.deliver(world.stage_event(execution_id, STAGES[0], "STARTED"))
    stdout()

    # WHEN the next invocation is a pipeline event, which has no stage
    world.deliver(world.pipeline_event(execution_id, "SUPERSEDED"))

    # THEN its lines carry no stage
    logs = _logs(stdout())
    assert logs
    assert all("stage" not in line for line in logs)


def test_the_trigger_logic_run_outside_lambda_prints_no_log_lines(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a registered version
    arn = world.register()

    # WHEN the trigger's logic handles its approval in this process, as `greenlight
    # redeploy` and `greenlight rollback` run it, outside any Lambda invocation
    outcome = world.approve(arn)

    # THEN it started the deployment and printed nothing: the command's words are its own
    assert outcome.outcome == "started"
    assert capsys.readouterr().out == ""


# --- metrics ----------------------------------------------------------------------------


def test_recorder_emits_deployment_metrics_for_a_deployment_and_a_rollback(
    world: PipelineWorld, stdout: Lines
) -> None:
    # GIVEN version 1 deployed everywhere
    first = world.register()
    good, first_approved = _approve(world, first)
    world.run_everywhere(good)
    # AND version 2 live in staging, then failing its production bake and rolled back
    second = world.register()
    bad, second_approved = _approve(world, second)
    world.start(bad)
    world.run_stage(bad, STAGES[0])
    world.await_approval(bad, STAGES[1])
    world.pass_approval(bad, STAGES[1])
    rollback = world.fail_and_roll_back(bad, STAGES[1], action="Bake")

    # WHEN the recorder's stdout is read
    emitted = _metrics(stdout())

    # THEN each stage start, success (with its lead time from the approval), failure and
    # rollback (with the time from the failure to the restore) was emitted once, in order
    def lead(execution_id: str, stage: str, approved_at: datetime) -> float:
        return (_stage_event(world, execution_id, stage, "SUCCEEDED") - approved_at).total_seconds()

    restore = (
        _stage_event(world, rollback, STAGES[1], "SUCCEEDED")
        - _stage_event(world, bad, STAGES[1], "FAILED")
    ).total_seconds()
    staging, production = STAGES
    assert emitted == [
        (staging, {"DeploymentsStarted": 1}),
        (staging, {"DeploymentsSucceeded": 1, "LeadTime": lead(good, staging, first_approved)}),
        (production, {"DeploymentsStarted": 1}),
        (
            production,
            {"DeploymentsSucceeded": 1, "LeadTime": lead(good, production, first_approved)},
        ),
        (staging, {"DeploymentsStarted": 1}),
        (staging, {"DeploymentsSucceeded": 1, "LeadTime": lead(bad, staging, second_approved)}),
        (production, {"DeploymentsStarted": 1}),
        (production, {"DeploymentsFailed": 1}),
        (production, {"DeploymentsRolledBack": 1, "TimeToRestore": restore}),
    ]
    assert restore > 0


def test_a_redelivered_event_emits_no_metric_again(world: PipelineWorld, stdout: Lines) -> None:
    # GIVEN a stage start the recorder counted
    arn = world.register()
    execution_id, _ = _approve(world, arn)
    world.start(execution_id)
    event = world.stage_event(execution_id, STAGES[0], "STARTED")
    world.deliver(event)
    assert _metrics(stdout()) == [(STAGES[0], {"DeploymentsStarted": 1})]

    # WHEN EventBridge delivers the same event again
    world.deliver(event)

    # THEN nothing is counted twice
    assert _metrics(stdout()) == []
