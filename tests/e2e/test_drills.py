"""The fault drills: each holds every promise, and each fails when the behaviour it
guards is switched off."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.sandbox.app_spec import AppSpec
from pipeline_scripts.sandbox.scenarios import SCENARIOS, scenario
from pipeline_scripts.sandbox.story import Story, StoryResult
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

DRILLS = [s for s in SCENARIOS if s.drill]


def _play(name: str, app: AppSpec) -> StoryResult:
    with Sandbox(app) as sandbox:
        story = Story(sandbox, name=name)
        sandbox.log = story.say
        scenario(name).run(story)
        return story.finish()


def _failed(result: StoryResult) -> list[str]:
    return [e.description for e in result.expectations if not e.passed]


@pytest.mark.parametrize("name", [s.name for s in DRILLS])
def test_every_drill_holds_every_promise(name: str, example_out: Path) -> None:
    # WHEN the drill runs on the example app
    result = _play(name, load_app(example_out))

    # THEN every expectation held, and its tally shows nothing lost or half deployed
    assert result.passed, _failed(result)
    assert result.tally is not None
    assert result.tally["lost_events"] == 0
    assert result.tally["half_deployments"] == 0


def test_the_shipped_drills_cover_what_the_issue_asks_for() -> None:
    # THEN every kind of drill is shipped, and the storm has at least 50 deliveries
    names = {s.name for s in DRILLS}
    assert {
        "drill-concurrent-approvals",
        "drill-same-instant-approvals",
        "drill-stale-re-emit",
        "drill-transient-deploy-staging",
        "drill-transient-deploy-production",
        "drill-rejection-during-canary",
        "drill-failed-start-redriven",
        "drill-event-storm",
    } <= names


def _deploy_without_transient_handling(monkeypatch: pytest.MonkeyPatch) -> None:
    import deploy.logic

    monkeypatch.setattr(deploy.logic, "is_transient", lambda _error: False)
    monkeypatch.setattr(deploy.logic, "is_endpoint_conflict", lambda _error: False)


def test_transient_staging_drill_reports_a_half_deployment_when_deploy_fails_on_transients(
    example_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a Deploy that treats throttling, 5xx and lost answers as failures
    _deploy_without_transient_handling(monkeypatch)

    # WHEN the staging drill runs
    result = _play("drill-transient-deploy-staging", load_app(example_out))

    # THEN it fails, and reports the first version serving staging without having passed it
    assert not result.passed
    assert "no half deployment in any stage" in _failed(result)
    assert result.tally is not None
    assert result.tally["half_deployments"] >= 1


def test_transient_production_drill_fails_when_deploy_fails_on_transients(
    example_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a Deploy that treats throttling as a failure
    _deploy_without_transient_handling(monkeypatch)

    # WHEN the production drill runs
    result = _play("drill-transient-deploy-production", load_app(example_out))

    # THEN it fails: production's Deploy failed and the new version is not live there
    assert "no action failed in production" in _failed(result)
    assert "v2 is live in production" in _failed(result)


def test_rejection_drill_fails_when_the_rollback_deploy_fails_on_transients(
    example_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a Deploy that treats throttling as a failure
    _deploy_without_transient_handling(monkeypatch)

    # WHEN the rejection-during-canary drill runs (Deploy's polls are throttled)
    result = _play("drill-rejection-during-canary", load_app(example_out))

    # THEN it fails: the rejected version still serves a stage
    assert any(failed.startswith("v1 is live in") for failed in _failed(result))


def test_storm_drill_fails_when_the_trigger_claims_nothing(
    example_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a ledger whose claims always succeed and record nothing (no dedupe)
    from shared.ledger import Ledger

    monkeypatch.setattr(Ledger, "claim", lambda _self, _act, **_kwargs: True)

    # WHEN the event storm runs
    result = _play("drill-event-storm", load_app(example_out))

    # THEN it fails: the repeated deliveries started more than one deployment
    assert "1 deployment(s) started" in _failed(result)


def test_redrive_drill_fails_when_the_trigger_has_no_dead_letter_queue(
    example_out: Path,
) -> None:
    # GIVEN the app with the trigger's DeadLetterConfig taken away
    app = load_app(example_out)
    functions: dict[str, Any] = {
        logical_id: dataclasses.replace(spec, dead_letter_queue=None)
        if spec.handler.startswith("approval_trigger.")
        else spec
        for logical_id, spec in app.functions.items()
    }
    stripped = dataclasses.replace(app, functions=functions)

    # WHEN the failed-start drill runs
    result = _play("drill-failed-start-redriven", stripped)

    # THEN it fails: the event was dropped, so it is lost and nothing can redrive it
    assert "the approval's event went to the DLQ" in _failed(result)
    assert "no event lost: each one delivered has its outcome or is in the DLQ" in _failed(result)


@pytest.mark.parametrize(
    "name",
    ["drill-concurrent-approvals", "drill-same-instant-approvals", "drill-stale-re-emit"],
)
def test_newest_wins_drills_fail_when_the_trigger_ignores_newer_approvals(
    name: str, example_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a trigger that never finds a newer approval already claimed for the group
    # (no high-water mark, no stale skip)
    from approval_trigger import claims

    monkeypatch.setattr(claims, "_newer", lambda *_args: None)

    # WHEN the drill runs
    result = _play(name, load_app(example_out))

    # THEN it fails: an older approval started and won somewhere
    assert not result.passed
    assert _failed(result)


def test_re_emit_drill_fails_when_a_failed_start_keeps_its_claim(
    example_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a trigger that does not give back the claim of a start that failed
    from approval_trigger.claims import Claims

    monkeypatch.setattr(Claims, "release", lambda _self, act: act)

    # WHEN a start fails on every attempt and the approval is re-emitted later
    result = _play("drill-failed-start-re-emitted", load_app(example_out))

    # THEN it fails: the re-emit is skipped as a duplicate of a start that never happened
    assert not result.passed
    assert _failed(result)
