"""Each app configuration is synthesized once per session; tests read the results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.synthesis import GATED_CONTEXT, Synthesized

REPO = Path(__file__).resolve().parents[2]

__all__ = ["GATED_CONTEXT", "Synthesized"]


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and an explicit region, so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((REPO / "tests" / "events" / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def render(value: Any) -> str:
    """A CloudFormation value as text: tokens become ``<LogicalId.Attr>`` / ``<Ref>``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Join":
            return str(argument[0]).join(render(part) for part in argument[1])
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
        if function == "Fn::Sub":
            return str(argument)
    raise AssertionError(f"unexpected CloudFormation value {value!r}")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def delivered_through_rule(pattern: dict[str, Any], event: dict[str, Any]) -> list[dict[str, Any]]:
    """Put ``event`` on a moto bus whose rule has ``pattern`` and an SQS target."""
    events = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="rule-target")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name="rule-under-test", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="rule-under-test", Targets=[{"Id": "queue", "Arn": queue_arn}])
    result = events.put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "Resources": event.get("resources", []),
            }
        ]
    )
    assert result["FailedEntryCount"] == 0
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]
