"""Fault drills: scenarios that break something on purpose and check every promise.

Each drill injects faults with ``sandbox.faults`` (throttling, 5xx, errors after a call
took effect, crashes, forced interleavings), plays the story through, and then checks
the promises itself: which executions started, each event's outcome, the version live
in each stage, and the dead-letter queue (``promises``). Run one with
``greenlight sandbox --scenario drill-event-storm``, or all with ``--all``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline_scripts.sandbox import promises
from pipeline_scripts.sandbox.drill_checks import (
    check_promises,
    dead_letter_queue_depth,
    deliver,
    endpoint_status,
    expect_live_everywhere,
    expect_no_failure,
    expect_one_deployment_of,
    expect_started,
    redrive,
    take_approvals,
)
from pipeline_scripts.sandbox.story import Story
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
    expect_one_deployment_of(story, v2)


def same_instant_approvals(story: Story) -> None:
    v1, v2 = story.register("first model"), story.register("second model")
    story.approve(v1, "approved")
    story.approve(v2, "approved in the same instant")
    story.say("EventBridge delivers the two approvals newest first")
    story.sandbox.pump_events(newest_first=True)
    expect_one_deployment_of(story, v2)


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
    expect_one_deployment_of(story, v2)


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
    expect_no_failure(story, story.first_stage)
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
    expect_no_failure(story, story.last_stage)
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
    story.sandbox.settle(
        until=lambda: endpoint_status(story, endpoint) == contract.ENDPOINT_UPDATING
    )
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
    expect_one_deployment_of(story, v1)


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
