"""Greenlight's promises, checked on a sandbox after a drill: what a drill reports.

- No half deployment: the version each stage's endpoint serves is one that passed that
  stage (a Bake that succeeded there for it, in a normal or a rollback execution), or
  the stage's latest run failed visibly, its failure naming the endpoint.
- Nothing is lost: every event delivered to the approval trigger has its recorded
  outcome, and one whose outcome is ``failed`` is in the trigger's dead-letter queue
  (from where it can be redriven).
- One outcome per event: the ledger holds at most one outcome for each event id.

``Tally`` is the count a drill adds to the reliability table of ``make bench``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from pipeline_scripts.emulation.codepipeline import FAILED, SUCCEEDED
from shared import contract

if TYPE_CHECKING:
    from pipeline_scripts.sandbox.story import Story

#: The handler package of the approval trigger, as the template names its handler.
TRIGGER_PACKAGE = "approval_trigger"


@dataclass(frozen=True)
class Tally:
    """One drill's figures for the reliability table."""

    faults_injected: int
    events_delivered: int
    distinct_events: int
    executions_started: int
    events_with_outcome: int
    most_outcomes_per_event: int
    half_deployments: int
    lost_events: int
    dead_letters: int

    def as_json(self) -> dict[str, int]:
        return asdict(self)


def tally(story: Story) -> Tally:
    delivered = trigger_deliveries(story)
    outcomes = Counter(_event_id(record) for record in story.outcomes())
    return Tally(
        faults_injected=story.sandbox.faults.injected,
        events_delivered=len(delivered),
        distinct_events=len(set(delivered)),
        executions_started=len(started_deployments(story)),
        events_with_outcome=sum(1 for event_id in set(delivered) if outcomes[event_id]),
        most_outcomes_per_event=max(outcomes.values(), default=0),
        half_deployments=len(half_deployments(story)),
        lost_events=len(lost_events(story)),
        dead_letters=len(trigger_dead_letters(story)),
    )


def trigger_functions(story: Story) -> set[str]:
    return {
        spec.name
        for spec in story.sandbox.app.functions.values()
        if spec.handler.split(".", 1)[0] == TRIGGER_PACKAGE
    }


def trigger_deliveries(story: Story) -> list[str]:
    """The ids of the events delivered to the approval trigger, one per delivery."""
    names = trigger_functions(story)
    return [
        event_id for function, event_id in story.sandbox.runtime.deliveries if function in names
    ]


def trigger_dead_letters(story: Story) -> list[str]:
    """The ids of the trigger's events that went to its dead-letter queue (not those
    dropped for want of one)."""
    names = trigger_functions(story)
    return [
        str(letter.event.get("id", ""))
        for letter in story.sandbox.runtime.dead_letters
        if letter.function in names and letter.sent
    ]


def lost_events(story: Story) -> list[str]:
    """Delivered to the trigger, yet neither handled (an outcome other than ``failed``)
    nor in its dead-letter queue."""
    handled = {
        _event_id(record) for record in story.outcomes() if record.get("outcome") != "failed"
    }
    dead = set(trigger_dead_letters(story))
    return sorted(set(trigger_deliveries(story)) - handled - dead)


def started_deployments(story: Story) -> list[dict[str, Any]]:
    """Executions something started to deploy a version (rollbacks not counted)."""
    return [
        e
        for e in story.started_executions()
        if e.get("executionType") != contract.EXECUTION_ROLLBACK
    ]


def half_deployments(story: Story) -> list[str]:
    """Each stage whose endpoint serves a version that never passed it, without a visible
    failure naming the endpoint; as sentences."""
    found = []
    for stage in story.stages:
        live = story.live(stage.name)
        if live is None or live in passed(story, stage.name):
            continue
        if visibly_failed(story, stage.name, stage.endpoint):
            continue
        found.append(
            f"{stage.name} ({stage.endpoint}) serves v{live}, which never passed {stage.name}, "
            "and no failure there names the endpoint"
        )
    return found


def passed(story: Story, stage: str) -> set[int]:
    """The versions that passed ``stage``: it succeeded in an execution that carried them."""
    versions = set()
    pipeline = story.sandbox.codepipeline.pipeline_record(story.pipeline)
    for execution in pipeline.executions:
        record = execution.stages.get(stage)
        version = execution.variables.get(contract.VAR_MODEL_PACKAGE_VERSION, "")
        if record is not None and record.status == SUCCEEDED and version.isdigit():
            versions.add(int(version))
    return versions


def visibly_failed(story: Story, stage: str, endpoint: str) -> bool:
    """The latest run of ``stage`` failed, and a failed action there names ``endpoint``."""
    pipeline = story.sandbox.codepipeline.pipeline_record(story.pipeline)
    runs = [e for e in pipeline.executions if stage in e.stages]
    if not runs:
        return False
    latest = max(runs, key=lambda e: e.start_time)
    record = latest.stages[stage]
    if record.status != FAILED:
        return False
    return any(
        action.status == FAILED and endpoint in str(action.summary or "")
        for action in record.actions.values()
    )


def _event_id(record: dict[str, Any]) -> str:
    return str(record.get("sk", "")).removeprefix("EVENT#")
