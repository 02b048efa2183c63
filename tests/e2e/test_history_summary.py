"""The sandbox story's history summary equals the metrics computed from the story's own
events: CodePipeline's executions and action executions, and the SageMaker approval
events the registry emitted. Nothing here reads the ledger, the history reader or the
summary module.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.cli import main
from pipeline_scripts.sandbox.scenarios import scenario
from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox
from shared import contract

pytestmark = pytest.mark.e2e


@dataclass
class Expected:
    """One stage's metrics, as computed here from CodePipeline and the approval events."""

    deployments: int = 0
    failed: int = 0
    rollbacks: int = 0
    lead_times: list[float] = field(default_factory=list)
    restore_times: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Told:
    """What the story told: the history's JSON summary, its table, and the clock around
    the reading."""

    summary: dict[str, Any]
    table: str
    rows: Any
    before: datetime
    after: datetime
    expected: dict[str, Expected]
    first_approval: datetime


@pytest.fixture(scope="module")
def story_told(example_out: Path) -> Iterator[Told]:
    with Sandbox(load_app(example_out)) as sandbox:
        story = Story(sandbox, name="story", say=lambda _: None)
        sandbox.log = story.say
        scenario("story").run(story)
        story.finish()
        table = next(iter(sandbox.app.tables))
        stages = [stage.name for stage in story.stages]
        flags = ["--ledger-table", table, "--stages", ",".join(stages)]
        before = sandbox.clock.now()
        summary = _history(story.group, *flags, "--summary-only", "--format", "json")
        text = _history(story.group, *flags)
        rows = json.loads(_history(story.group, *flags, "--format", "json"))
        after = sandbox.clock.now()
        approvals = _approval_times(sandbox)
        yield Told(
            json.loads(summary),
            text,
            rows,
            before,
            after,
            _from_codepipeline(sandbox, story.group, stages, approvals),
            min(approvals.values()),
        )


def _history(group: str, *flags: str) -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = main(["history", group, *flags])
    assert code == 0, buffer.getvalue()
    return buffer.getvalue()


def _approval_times(sandbox: Sandbox) -> dict[int, datetime]:
    """Version -> when it was first approved, from the state-change events SageMaker sent
    (``LastModifiedTime`` of the first event that says Approved)."""
    times: dict[int, datetime] = {}
    for event in sandbox.registry.emitted.values():
        detail = event["detail"]
        if detail.get("ModelApprovalStatus") != "Approved":
            continue
        moment = datetime.fromtimestamp(detail["LastModifiedTime"] / 1000, tz=UTC)
        version = int(detail["ModelPackageVersion"])
        times[version] = min(moment, times.get(version, moment))
    return times


def _from_codepipeline(
    sandbox: Sandbox, group: str, stages: list[str], approvals: dict[int, datetime]
) -> dict[str, Expected]:
    """Walk each stage's executions in time order, as CodePipeline ran them."""
    codepipeline = sandbox.client("codepipeline")
    pipeline = contract.pipeline_name(group)
    executions = codepipeline.list_pipeline_executions(pipelineName=pipeline)
    runs: list[tuple[datetime, str, dict[str, Any], int, list[dict[str, Any]]]] = []
    for summary in executions["pipelineExecutionSummaries"]:
        execution_id = summary["pipelineExecutionId"]
        variables = {
            v["name"]: v["resolvedValue"]
            for v in codepipeline.get_pipeline_execution(
                pipelineName=pipeline, pipelineExecutionId=execution_id
            )["pipelineExecution"].get("variables", [])
        }
        version = variables.get(contract.VAR_MODEL_PACKAGE_VERSION, "")
        if not version.isdigit() or int(version) < 1:
            continue  # the execution CodePipeline starts on creation deploys no version
        actions = codepipeline.list_action_executions(
            pipelineName=pipeline, filter={"pipelineExecutionId": execution_id}
        )["actionExecutionDetails"]
        for stage in stages:
            ran = [a for a in actions if a["stageName"] == stage]
            if ran:
                start = min(a["startTime"] for a in ran)
                runs.append((start, stage, summary, int(version), ran))
    expected = {stage: Expected() for stage in stages}
    live_deployment_failed: dict[str, bool | None] = dict.fromkeys(stages)
    for start, stage, summary, version, ran in sorted(runs, key=lambda run: run[0]):
        latest: dict[str, dict[str, Any]] = {}
        for action in sorted(ran, key=lambda a: a["startTime"]):
            latest[action["actionName"]] = action
        statuses = {a["status"] for a in latest.values()}
        end = max(a["lastUpdateTime"] for a in latest.values())
        succeeded, failed = statuses == {"Succeeded"}, "Failed" in statuses
        metrics = expected[stage]
        if summary["executionType"] == "ROLLBACK":
            metrics.rollbacks += 1
            if summary["trigger"]["triggerType"] == "ManualRollback":
                # a rejection or an operator took the live deployment out
                if live_deployment_failed[stage] is False:
                    metrics.failed += 1
                live_deployment_failed[stage] = None
            if succeeded:
                metrics.restore_times.append((end - start).total_seconds())
        elif succeeded or failed:
            metrics.deployments += 1
            metrics.failed += failed
            if succeeded:
                metrics.lead_times.append((end - approvals[version]).total_seconds())
                live_deployment_failed[stage] = False
    return expected


#: The ledger stamps stage outcomes with their EventBridge event's time, which has whole
#: seconds only; CodePipeline's action times have milliseconds. Durations agree within this.
EVENT_TIME_PRECISION_SECONDS = 1.0


def _nearest_rank(values: list[float], percent: int) -> Any:
    """The nearest-rank percentile, as a value compared within the event-time precision."""
    ordered = sorted(values)
    if not ordered:
        return None
    value = ordered[math.ceil(percent / 100 * len(ordered)) - 1]
    return pytest.approx(value, abs=EVENT_TIME_PRECISION_SECONDS)


def test_the_story_summary_equals_the_metrics_of_its_own_pipeline_runs(story_told: Told) -> None:
    # GIVEN the story played in the sandbox, and its metrics computed from CodePipeline's
    # executions and SageMaker's approval events
    told = story_told

    # WHEN greenlight history gives its summary
    window = told.summary["window"]
    start = datetime.fromisoformat(window["start"])
    end = datetime.fromisoformat(window["end"])

    # THEN the window runs from the first approval to the moment of reading
    assert start == told.first_approval
    assert told.before <= end <= told.after
    days = (end - start) / timedelta(days=1)
    assert window["days"] == pytest.approx(days)
    # AND each stage's numbers are the ones computed from the story's events
    for got in told.summary["stages"]:
        want = told.expected[got["stage"]]
        assert got["deployments"] == want.deployments, got["stage"]
        assert got["deployments_per_day"] == pytest.approx(want.deployments / days)
        assert got["deployments_per_week"] == pytest.approx(7 * want.deployments / days)
        assert got["failed_deployments"] == want.failed, got["stage"]
        assert got["change_failure_rate"] == pytest.approx(want.failed / want.deployments)
        assert got["lead_time"] == {
            "count": len(want.lead_times),
            "median_seconds": _nearest_rank(want.lead_times, 50),
            "p90_seconds": _nearest_rank(want.lead_times, 90),
        }, got["stage"]
        assert (got["rollbacks"], got["restored"]) == (
            want.rollbacks,
            len(want.restore_times),
        ), got["stage"]
        assert got["time_to_restore"] == {
            "count": len(want.restore_times),
            "median_seconds": _nearest_rank(want.restore_times, 50),
            "p90_seconds": _nearest_rank(want.restore_times, 90),
        }, got["stage"]


def test_the_story_has_what_each_metric_needs(story_told: Told) -> None:
    # GIVEN / WHEN the metrics computed from the story's events
    staging, production = (story_told.expected[s] for s in ("staging", "production"))

    # THEN the story exercises every metric: three deployments per stage, a guardrail
    # failure and a rejection in production, both restored
    assert (staging.deployments, staging.failed, staging.rollbacks) == (3, 0, 0)
    assert (production.deployments, production.failed, production.rollbacks) == (3, 2, 2)
    assert len(production.restore_times) == 2
    assert len(production.lead_times) == 2


def test_the_story_table_ends_with_the_summary_within_120_columns(story_told: Told) -> None:
    # GIVEN / WHEN the story's history as the default table
    rows, summary = story_told.table.split("\n\n")

    # THEN the summary follows the rows, every line within 120 columns
    assert summary.startswith("Summary, 2026-01-05 09:00 UTC to ")
    assert "change failure rate            0% (0 of 3)    67% (2 of 3)" in summary
    assert max(len(line) for line in story_told.table.splitlines()) <= 120
    assert rows.splitlines()[0].startswith("VERSION")


def test_json_rows_stay_a_list_beside_the_summary(story_told: Told) -> None:
    # GIVEN / WHEN the story's history as JSON without --summary-only
    # THEN it is the list of rows existing consumers read
    assert isinstance(story_told.rows, list)
    assert {row["stage"] for row in story_told.rows} == {"staging", "production"}


def test_summary_only_with_html_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN / WHEN --summary-only is asked of the HTML page
    code = main(["history", "g", "--summary-only", "--format", "html", "--stages", "staging"])

    # THEN it is refused before anything is read, saying what works
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "greenlight: --summary-only: the HTML page always shows the summary; "
        "use it with --format table, json or csv"
    )
