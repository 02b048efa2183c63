"""What the stack's topics publish, read back from the queue the sandbox subscribes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Notification:
    subject: str
    message: str
    attributes: dict[str, str]


def drain_notifications(sqs: Any, queue_url: str) -> list[Notification]:
    """Every notification waiting on the queue, oldest first; the queue is left empty."""
    notifications: list[Notification] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return notifications
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            body = json.loads(message["Body"])
            attributes = {
                key: str(value.get("Value"))
                for key, value in (body.get("MessageAttributes") or {}).items()
            }
            notifications.append(
                Notification(
                    subject=body.get("Subject") or "",
                    message=body.get("Message") or "",
                    attributes=attributes,
                )
            )
