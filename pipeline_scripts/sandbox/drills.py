"""Fault drills: scenarios that break something on purpose and check every promise.

Each drill injects faults with ``sandbox.faults`` (throttling, 5xx, errors after a call
took effect, crashes, forced interleavings), plays the story through, and then checks
the promises itself: which executions started, each event's outcome, the version live
in each stage, and the dead-letter queue (``promises``). Run one with
``greenlight sandbox --scenario drill-event-storm``, or all with ``--all``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline_scripts.sandbox import promises
from pipeline_scripts.sandbox.delivery import Matched
from pipeline_scripts.sandbox.story import Story, Version
from shared import contract

#: The SDK's attempts at one call (legacy retry mode): a fault must outlast them to
#: reach the function's code.
SDK_ATTEMPTS = 5
#: How many times Lambda runs an asynchronous event in all (the first try, two retries).
LAMBDA_ATTEMPTS = 3
TRIGGER = promises.TRIGGER_PACKAGE


@dataclass(frozen=True)
class Drill:
    name: str
    summary: str
    run: Callable[[Story], None]


# --- what every drill checks ----------------------------------------------------------------


def check_promises(story: Story, *, dead_letters_left: int = 0) -> promises.Tally:
    """Expect no half deployment, no lost event, one outcome per event and the DLQ as
    given; keep the drill's tally on its result."""
    tally = promises.tally(story)
    story.result.tally = tally.as_json()
    halves = promises.half_deployments(story)
    story.expect("no half deployment in any stage", not halves, "; ".join(halves))
    lost = promises.lost_events(story)
    story.expect(
        "no event lost: each one delivered has its outcome or is in the DLQ",
        not lost,
        ", ".join(lost),
    )
    story.expect(
        "at most one recorded outcome per event",
        tally.most_outcomes_per_event <= 1,
        str(tally.most_outcomes_per_event),
    )
    left = dead_letter_queue_depth(story)
    story.expect(
        f"{dead_letters_left} event(s) left in the trigger's dead-letter queue",
        left == dead_letters_left,
        str(left),
    )
    return tally


def expect_live_everywhere(story: Story, version: Version) -> None:
    for stage in story.stages:
        live = story.live(stage.name)
        story.expect(f"{version} is live in {stage.name}", live == version.number, f"v{live}")


def expect_started(story: Story, count: int) -> None:
    started = promises.started_deployments(story)
    story.expect(
        f"{count} deployment(s) started",
        len(started) == count,
        str([e["pipelineExecutionId"][:8] for e in started]),
    )


def dead_letter_queue_depth(story: Story) -> int:
    """Messages waiting in the approval trigger's dead-letter queue(s)."""
    depth = 0
    for url in _trigger_queue_urls(story):
        attributes = story.sandbox.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        depth += int(attributes.get("ApproximateNumberOfMessages", 0))
    return depth


def _trigger_queue_urls(story: Story) -> list[str]:
    sqs = story.sandbox.client("sqs")
    names = {
        spec.dead_letter_queue.name
        for spec in story.sandbox.app.functions.values()
        if spec.name in promises.trigger_functions(story) and spec.dead_letter_queue
    }
    return [sqs.get_queue_url(QueueName=name)["QueueUrl"] for name in sorted(names)]


# --- delivering by hand --------------------------------------------------------------------


def take_approvals(story: Story) -> dict[int, dict[str, Any]]:
    """The registry's events waiting for delivery, by version; anything else waiting is
    delivered at once."""
    waiting: list[Matched] = story.sandbox.delivery.take()
    by_version: dict[int, dict[str, Any]] = {}
    for matched in waiting:
        event = story.sandbox.registry.emitted.get(matched.event.get("id", "")) or matched.event
        version = event.get("detail", {}).get("ModelPackageVersion")
        if (
            isinstance(version, int)
            and event["detail"].get("ModelApprovalStatus") == contract.APPROVED
        ):
            by_version[version] = event
        else:
            story.sandbox.redeliver(event)
    return by_version


def deliver(story: Story, event: dict[str, Any]) -> None:
    story.sandbox.redeliver(event)


# --- the drills ----------------------------------------------------------------------------


def concurrent_approvals(story: Story) -> None:
    v1, v2 = story.register("first model"), story.register("second model")
    story.approve(v1, "approved first")
    story.sandbox.clock.advance(5)
    story.approve(v2, "approved five seconds later")
    events = take_approvals(story)
    story.say(f"the trigger reads the ledger for {v1}; before it claims, {v2} is handled in full")
    story.sandbox.faults.inject(
        function=TRIGGER,
        operation="TransactWriteItems",
        kind="interleave",
        then=lambda: deliver(story, events[v2.number]),
    )
    deliver(story, events[v1.number])
    story.settle(approve_stages=True)
    expect_live_everywhere(story, v2)
    expect_started(story, 1)
    check_promises(story)


def same_instant_approvals(story: Story) -> None:
    v1, v2 = story.register("first model"), story.register("second model")
    story.approve(v1, "approved")
    story.approve(v2, "approved in the same instant")
    story.say("EventBridge delivers the two approvals newest first")
    story.sandbox.pump_events(newest_first=True)
    story.settle(approve_stages=True)
    expect_live_everywhere(story, v2)
    expect_started(story, 1)
    check_promises(story)


def stale_re_emit(story: Story) -> None:
    v1, v2 = story.register("first model"), story.register("second model")
    story.approve(v1, "approved first")
    story.sandbox.clock.advance(5)
    story.approve(v2, "approved five seconds later")
    story.sandbox.pump_events(newest_first=True)
    story.settle(approve_stages=True)
    story.sandbox.clock.advance(3600)
    story.say(f"an hour later someone edits {v1}'s metadata: SageMaker re-emits its approval")
    story.sandbox.client("sagemaker").update_model_package(
        ModelPackageArn=v1.arn, CustomerMetadataProperties={"reviewed-by": "risk"}
    )
    story.settle(approve_stages=True)
    expect_live_everywhere(story, v2)
    expect_started(story, 1)
    check_promises(story)


def transient_deploy_staging(story: Story) -> None:
    faults = story.sandbox.faults
    story.say("Deploy's first CreateEndpoint takes effect but answers 500; polls are throttled")
    faults.inject(function="deploy", operation="CreateEndpoint", kind="after")
    faults.inject(
        function="deploy", operation="DescribeEndpoint", kind="throttle", times=SDK_ATTEMPTS, skip=2
    )
    v1 = story.register("first model")
    story.approve(v1)
    story.settle(approve_stages=True)
    expect_live_everywhere(story, v1)
    story.say("the next version: UpdateEndpoint answers 500 after taking effect; then 5xx")
    faults.inject(function="deploy", operation="UpdateEndpoint", kind="after")
    faults.inject(
        function="deploy", operation="DescribeEndpoint", kind="5xx", times=SDK_ATTEMPTS, skip=1
    )
    v2 = story.register("second model")
    story.approve(v2)
    story.settle(approve_stages=True)
    expect_live_everywhere(story, v2)
    _expect_no_failure(story, story.first_stage)
    expect_started(story, 2)
    check_promises(story)


def transient_deploy_production(story: Story) -> None:
    faults = story.sandbox.faults
    v1 = story.register("first model")
    story.approve(v1)
    story.settle(approve_stages=True)
    v2 = story.register("second model")
    story.approve(v2)
    story.settle()
    story.say(
        f"in {story.last_stage}, Deploy crashes after UpdateEndpoint; its polls are throttled"
    )
    faults.inject(function="deploy", operation="UpdateEndpoint", kind="crash")
    faults.inject(
        function="deploy", operation="DescribeEndpoint", kind="throttle", times=SDK_ATTEMPTS, skip=3
    )
    story.settle(approve_stages=True)
    expect_live_everywhere(story, v2)
    _expect_no_failure(story, story.last_stage)
    crashed = [r for r in story.sandbox.runtime.invocations if r.outcome == "crashed"]
    story.expect("Deploy crashed and Lambda retried it", bool(crashed))
    expect_started(story, 2)
    check_promises(story)


def rejection_during_canary(story: Story) -> None:
    v1 = story.register("first model")
    story.approve(v1)
    story.settle(approve_stages=True)
    v2 = story.register("second model")
    story.approve(v2)
    story.settle()
    story.approve_stages()
    endpoint = story.stage(story.last_stage).endpoint
    _run_until(story, lambda: _status(story, endpoint) == contract.ENDPOINT_UPDATING)
    story.say(f"{v2} is rolling out to {endpoint} (canary) when it is rejected")
    story.say("Deploy's next three DescribeEndpoint calls are throttled past the SDK's retries")
    story.sandbox.faults.inject(
        function="deploy", operation="DescribeEndpoint", kind="throttle", times=SDK_ATTEMPTS * 3
    )
    story.reject(v2, "bias found during the canary")
    story.settle(approve_stages=True)
    expect_live_everywhere(story, v1)
    counts = story.outcome_counts()
    story.expect(
        "the rejection was recorded as a rollback",
        counts.get("rollback-started") == 1,
        str(counts),
    )
    check_promises(story)


def failed_start_redriven(story: Story) -> None:
    story.say("every StartPipelineExecution of the trigger is throttled, on every attempt")
    fault = story.sandbox.faults.inject(
        function=TRIGGER,
        operation="StartPipelineExecution",
        kind="throttle",
        times=SDK_ATTEMPTS * LAMBDA_ATTEMPTS,
    )
    v1 = story.register("first model")
    story.approve(v1)
    story.settle()
    story.expect("the approval's event went to the DLQ", dead_letter_queue_depth(story) == 1)
    story.expect("nothing started", not promises.started_deployments(story))
    story.sandbox.faults.clear()
    story.say(f"a platform engineer redrives the DLQ ({fault.hits} throttled attempts)")
    for event in redrive(story):
        deliver(story, event)
    story.settle(approve_stages=True)
    expect_live_everywhere(story, v1)
    expect_started(story, 1)
    check_promises(story)


def failed_start_re_emitted(story: Story) -> None:
    story.say("every StartPipelineExecution of the trigger is throttled, on every attempt")
    story.sandbox.faults.inject(
        function=TRIGGER,
        operation="StartPipelineExecution",
        kind="throttle",
        times=SDK_ATTEMPTS * LAMBDA_ATTEMPTS,
    )
    v1 = story.register("first model")
    story.approve(v1)
    story.settle()
    story.expect("the approval's event went to the DLQ", dead_letter_queue_depth(story) == 1)
    story.sandbox.faults.clear()
    story.sandbox.clock.advance(600)
    story.say(f"later, a metadata edit re-emits {v1}'s approval")
    story.sandbox.client("sagemaker").update_model_package(
        ModelPackageArn=v1.arn, CustomerMetadataProperties={"reviewed-by": "risk"}
    )
    story.settle(approve_stages=True)
    expect_live_everywhere(story, v1)
    expect_started(story, 1)
    check_promises(story, dead_letters_left=1)


def redrive(story: Story) -> list[dict[str, Any]]:
    """Take every message off the trigger's dead-letter queue: the events, as sent."""
    sqs = story.sandbox.client("sqs")
    events = []
    for url in _trigger_queue_urls(story):
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for message in messages:
                events.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return events


def event_storm(story: Story) -> None:
    v1, v2 = story.register("first model"), story.register("second model")
    story.approve(v1, "approved first")
    story.sandbox.clock.advance(5)
    story.approve(v2, "approved five seconds later")
    events = take_approvals(story)
    faults = story.sandbox.faults
    faults.inject(function=TRIGGER, operation="GetItem", kind="throttle", times=3, skip=4)
    faults.inject(function=TRIGGER, operation="Query", kind="5xx", times=2, skip=10)
    storm = [events[v2.number]] + [events[(v1, v2)[i % 2].number] for i in range(55)]
    story.say(f"EventBridge delivers the two approvals {len(storm)} times, interleaved")
    for event in storm:
        deliver(story, event)
    story.settle(approve_stages=True)
    expect_live_everywhere(story, v2)
    expect_started(story, 1)
    tally = check_promises(story)
    story.expect(
        "at least 50 deliveries", tally.events_delivered >= 50, str(tally.events_delivered)
    )


# --- helpers -----------------------------------------------------------------------------


def _expect_no_failure(story: Story, stage: str) -> None:
    failures = story.failures(stage)
    story.expect(f"no action failed in {stage}", not failures, "; ".join(failures))


def _status(story: Story, endpoint: str) -> str | None:
    try:
        described = story.sandbox.client("sagemaker").describe_endpoint(EndpointName=endpoint)
    except story.sandbox.client("sagemaker").exceptions.ClientError:
        return None
    return str(described["EndpointStatus"])


def _run_until(story: Story, done: Callable[[], bool], *, max_steps: int = 500) -> None:
    """Let the sandbox run, a step at a time, until ``done``."""
    sandbox = story.sandbox
    for _ in range(max_steps):
        if done():
            return
        moved = sandbox.pump_events()
        moved |= sandbox.engine.step()
        if not moved:
            due = sandbox.engine.next_due()
            if due is None:
                return
            sandbox.clock.advance(max((due - sandbox.clock.now()).total_seconds(), 0.0))
            sandbox.sagemaker.tick()


DRILLS: tuple[Drill, ...] = (
    Drill(
        "drill-concurrent-approvals",
        "two approvals handled at once, the older one claiming last: the newer wins",
        concurrent_approvals,
    ),
    Drill(
        "drill-same-instant-approvals",
        "two approvals with the same time, delivered newest first: the higher version wins",
        same_instant_approvals,
    ),
    Drill(
        "drill-stale-re-emit",
        "a stale approval re-emitted an hour later by a metadata edit starts nothing",
        stale_re_emit,
    ),
    Drill(
        "drill-transient-deploy-staging",
        "lost answers, throttling and 5xx around Deploy's calls in staging: no half deployment",
        transient_deploy_staging,
    ),
    Drill(
        "drill-transient-deploy-production",
        "Deploy crashes after UpdateEndpoint in production and its polls are throttled",
        transient_deploy_production,
    ),
    Drill(
        "drill-rejection-during-canary",
        "a version rejected during its production canary is rolled back everywhere",
        rejection_during_canary,
    ),
    Drill(
        "drill-failed-start-redriven",
        "a start throttled on every attempt goes to the DLQ; its redrive deploys it once",
        failed_start_redriven,
    ),
    Drill(
        "drill-failed-start-re-emitted",
        "a start throttled on every attempt goes to the DLQ; a later re-emit deploys it once",
        failed_start_re_emitted,
    ),
    Drill(
        "drill-event-storm",
        "56 interleaved deliveries of two approvals, with throttled ledger reads",
        event_storm,
    ),
)
