"""What the fault drills check and do by hand: the promises, the versions live, the
trigger's dead-letter queue, and events delivered or redriven outside the rules."""

from __future__ import annotations

import json
from typing import Any

from pipeline_scripts.sandbox import promises
from pipeline_scripts.sandbox.delivery import Matched
from pipeline_scripts.sandbox.story import Story, Version
from shared import contract

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


def expect_one_deployment_of(story: Story, version: Version) -> None:
    """Play the story to its end, then expect one deployment in all, ``version`` live in
    every stage and every promise kept."""
    story.settle(approve_stages=True)
    expect_live_everywhere(story, version)
    expect_started(story, 1)
    check_promises(story)


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


# --- helpers -----------------------------------------------------------------------------


def expect_no_failure(story: Story, stage: str) -> None:
    failures = story.failures(stage)
    story.expect(f"no action failed in {stage}", not failures, "; ".join(failures))


def endpoint_status(story: Story, endpoint: str) -> str | None:
    try:
        described = story.sandbox.client("sagemaker").describe_endpoint(EndpointName=endpoint)
    except story.sandbox.client("sagemaker").exceptions.ClientError:
        return None
    return str(described["EndpointStatus"])
