"""The sandbox's scenarios: each a short story with the expectations that must hold.

``story`` is the whole tour ``make sandbox`` runs; the others isolate one behaviour
each. Every scenario runs on a fresh sandbox of the synthesized app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline_scripts.sandbox.drills import DRILLS
from pipeline_scripts.sandbox.scenario_accounts import stages_in_their_own_accounts
from pipeline_scripts.sandbox.story import Story, Version


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    run: Callable[[Story], None]
    #: Needs a group whose governance gates are on (the sandbox synthesizes one).
    needs_gates: bool = False
    #: Needs staging and production in accounts of their own (the sandbox synthesizes it).
    needs_accounts: bool = False
    #: A fault drill (``drills.py``): it checks every promise and reports a tally.
    drill: bool = False


def _deploy_everywhere(story: Story, note: str, **behaviour: object) -> Version:
    version = story.register(note, **behaviour)
    story.approve(version)
    story.settle(approve_stages=True)
    return version


def happy_path(story: Story) -> None:
    v1 = story.register("first house-price model")
    story.approve(v1, "validation RMSE within target")
    story.settle()
    story.expect(f"{v1} is live in {story.first_stage}", story.live(story.first_stage) == v1.number)
    story.expect(
        f"{story.last_stage} waits for a manual approval before it gets {v1}",
        story.live(story.last_stage) is None,
    )
    story.settle(approve_stages=True)
    story.expect(f"{v1} is live in {story.last_stage}", story.live(story.last_stage) == v1.number)
    counts = story.outcome_counts()
    story.expect(
        "one approval started exactly one deployment",
        counts.get("started") == 1,
        str(counts),
    )
    story.expect("no event was lost", not story.sandbox.runtime.dead_letters)


def guardrail_rollback(story: Story) -> None:
    v1 = _deploy_everywhere(story, "good model")
    v2 = story.register(
        "model that breaks under production traffic",
        healthy=False,
        only_on=(story.stage(story.last_stage).endpoint,),
    )
    story.approve(v2)
    story.settle(approve_stages=True)
    failures = story.failures(story.last_stage)
    story.expect(
        f"the guardrail sent {story.last_stage} back to {v1} and Deploy failed naming the alarm",
        any("ALARM" in message and "5xx" in message for message in failures),
        "; ".join(failures),
    )
    story.expect(
        f"{v1} is live in {story.last_stage}",
        story.live(story.last_stage) == v1.number,
    )


def bake_alarm_rollback(story: Story) -> None:
    v1 = _deploy_everywhere(story, "good model")
    v2 = story.register(
        "model whose error rate creeps up after it goes live",
        healthy=False,
        invocations_fail=False,
        only_on=(story.stage(story.first_stage).endpoint,),
    )
    story.approve(v2)
    story.settle()
    failures = story.failures(story.first_stage)
    story.expect(
        f"Bake failed in {story.first_stage}, naming the alarm",
        any(message.startswith("bake of") and "ALARM" in message for message in failures),
        "; ".join(failures),
    )
    story.expect(
        f"{story.first_stage} rolled back to {v1}",
        story.live(story.first_stage) == v1.number,
    )
    rollbacks = [e for e in story.executions() if e.get("executionType") == "ROLLBACK"]
    story.expect(
        "the rollback ran as a ROLLBACK execution and succeeded",
        any(e["status"] == "Succeeded" for e in rollbacks),
        str([(e["status"]) for e in rollbacks]),
    )


def smoke_test_failure(story: Story) -> None:
    v1 = _deploy_everywhere(story, "good model")
    v2 = story.register("model that answers with errors", healthy=False)
    story.approve(v2)
    story.settle()
    failures = story.failures(story.first_stage)
    story.expect(
        "the smoke test failed, saying which check",
        any(message.startswith("smoke test") for message in failures),
        "; ".join(failures),
    )
    story.expect(
        f"{story.first_stage} is back on {v1}",
        story.live(story.first_stage) == v1.number,
    )
    story.expect(
        f"{v2} never reached {story.last_stage}",
        story.live(story.last_stage) == v1.number,
    )


def reject_live_version(story: Story) -> None:
    v1 = _deploy_everywhere(story, "first model")
    v2 = _deploy_everywhere(story, "second model")
    story.expect(f"{v2} is live in {story.last_stage}", story.live(story.last_stage) == 2)
    story.reject(v2, "bias found in post-deployment review")
    story.settle(approve_stages=True)
    for stage in story.stages:
        story.expect(
            f"{stage.name} rolled back to {v1}",
            story.live(stage.name) == v1.number,
        )
    counts = story.outcome_counts()
    story.expect(
        "the rejection was recorded as a rollback", counts.get("rollback-started") == 1, str(counts)
    )


def duplicate_and_stale_events(story: Story) -> None:
    v1 = story.register("first model")
    v2 = story.register("second model")
    story.approve(v1, "approved first")
    story.sandbox.clock.advance(5)
    story.approve(v2, "approved five seconds later")
    story.say("EventBridge delivers the two approvals out of order: v2's first")
    story.sandbox.pump_events(newest_first=True)
    story.settle()
    sagemaker = story.sandbox.client("sagemaker")
    sagemaker.update_model_package(
        ModelPackageArn=v2.arn, CustomerMetadataProperties={"reviewed-by": "risk"}
    )
    story.say(f"someone edits {v2}'s metadata: SageMaker emits another Approved event")
    story.settle()
    approval = next(
        event
        for event in story.sandbox.registry.emitted.values()
        if event["detail"]["ModelPackageArn"] == v2.arn
        and event["detail"]["ModelApprovalStatus"] == "Approved"
    )
    story.say(f"EventBridge delivers {v2}'s approval event a second time")
    story.sandbox.redeliver(approval)
    story.settle(approve_stages=True)
    counts = story.outcome_counts()
    story.expect("one deployment started, for the newest approval", counts.get("started") == 1)
    story.expect(f"the late {v1} approval was stale", counts.get("skipped-stale") == 1, str(counts))
    story.expect(
        "the metadata edit and the redelivery started nothing",
        counts.get("skipped-duplicate", 0) >= 1,
        str(counts),
    )
    starts = [e for e in story.started_executions() if e.get("executionType") != "ROLLBACK"]
    story.expect("exactly one pipeline execution ran", len(starts) == 1, str(len(starts)))
    story.expect(f"{v2} is live in {story.last_stage}", story.live(story.last_stage) == v2.number)


def gate_refusal(story: Story) -> None:
    version = story.register("model registered without a bias report")
    story.approve(version)
    story.settle()
    counts = story.outcome_counts()
    story.expect("the gates refused the approval", counts.get("gate-rejected") == 1, str(counts))
    story.expect("no pipeline execution started", not story.started_executions())
    notified = [n for n in story.sandbox.notifications if "gate" in n.subject.lower()]
    story.expect("the refusal was notified", bool(notified))
    described = story.sandbox.client("sagemaker").describe_model_package(
        ModelPackageName=version.arn
    )
    story.expect(
        "the refusal was written back to the registry",
        any("gate" in key for key in described.get("CustomerMetadataProperties", {})),
        str(described.get("CustomerMetadataProperties")),
    )


def quick_succession(story: Story) -> None:
    v1 = story.register("first model")
    story.approve(v1)
    story.settle()
    story.say(f"{v1} waits for the reviewer at {story.last_stage}'s manual approval")
    v2 = story.register("second model")
    v3 = story.register("third model")
    story.approve(v2, "approved")
    story.approve(v3, "approved a moment later")
    story.settle(approve_stages=True)
    statuses = {e["status"] for e in story.executions()}
    story.expect("the older waiting execution was superseded", "Superseded" in statuses)
    story.expect(
        f"the newer approval won: {v3} is live in {story.last_stage}",
        story.live(story.last_stage) == v3.number,
    )


def full_story(story: Story) -> None:
    first, last = story.first_stage, story.last_stage
    story.say("1. a good model goes through staging and production")
    v1 = story.register("house prices, first model")
    story.approve(v1, "RMSE 31.2k on the holdout set")
    story.settle(approve_stages=True)
    story.expect(f"{v1} is live in {first} and {last}", _live_all(story, v1.number))

    story.say("2. a better model replaces it")
    v2 = story.register("house prices, more features")
    story.approve(v2, "RMSE 28.9k on the holdout set")
    story.settle(approve_stages=True)
    story.expect(f"{v2} is live in {first} and {last}", _live_all(story, v2.number))

    story.say(f"3. a bad model: fine in {first}, it fails under {last} traffic")
    v3 = story.register(
        "house prices, new encoder",
        healthy=False,
        only_on=(story.stage(last).endpoint,),
    )
    story.approve(v3, "RMSE 27.5k on the holdout set")
    story.settle(approve_stages=True)
    failures = story.failures(last)
    story.expect(
        f"the guardrail rolled {last} back and Deploy named the alarm",
        any("ALARM" in message for message in failures),
        "; ".join(failures),
    )

    story.say(f"4. {v2} is still live in {last}")
    story.expect(f"{v2} is live in {last}", story.live(last) == v2.number)

    story.say(f"5. {v2} is rejected after the fact; {last} rolls back to {v1}")
    story.reject(v2, "post-deployment audit found a data leak")
    story.settle(approve_stages=True)
    story.expect(f"{v1} is live in {last}", story.live(last) == v1.number)
    story.expect("no event was lost", not story.sandbox.runtime.dead_letters)


def _live_all(story: Story, number: int) -> bool:
    return all(story.live(stage.name) == number for stage in story.stages)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("story", "the whole tour: deploy, replace, guardrail, reject", full_story),
    Scenario("happy-path", "an approval goes through staging and production", happy_path),
    Scenario(
        "guardrail-rollback",
        "a bad version trips an alarm during the canary; traffic goes back",
        guardrail_rollback,
    ),
    Scenario(
        "bake-alarm-rollback",
        "an alarm trips after the rollout, during the bake; the stage rolls back",
        bake_alarm_rollback,
    ),
    Scenario(
        "smoke-test-failure",
        "a version that answers with errors fails its smoke test and rolls back",
        smoke_test_failure,
    ),
    Scenario(
        "reject-live-version",
        "rejecting the live version rolls every stage back to the one before",
        reject_live_version,
    ),
    Scenario(
        "duplicate-and-stale-events",
        "re-sent, re-emitted and out-of-order events start nothing extra",
        duplicate_and_stale_events,
    ),
    Scenario(
        "gate-refusal",
        "a version without its required reports is refused before any deployment",
        gate_refusal,
        needs_gates=True,
    ),
    Scenario(
        "quick-succession",
        "two approvals in quick succession: the newer wins, the older is superseded",
        quick_succession,
    ),
    Scenario(
        "stages-in-their-own-accounts",
        "staging and production each in an account of its own, reached through its role",
        stages_in_their_own_accounts,
        needs_accounts=True,
    ),
    *(Scenario(drill.name, drill.summary, drill.run, drill=True) for drill in DRILLS),
)


def scenario(name: str) -> Scenario:
    for candidate in SCENARIOS:
        if candidate.name == name:
            return candidate
    known = ", ".join(s.name for s in SCENARIOS)
    raise KeyError(f"unknown scenario {name!r} (known: {known})")
