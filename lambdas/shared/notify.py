"""Messages to the notifications topic: a readable subject and body, and attributes that
subscribers can filter on (``group``, ``outcome``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

#: SNS refuses subjects longer than 100 characters.
MAX_SUBJECT = 100


def subject_line(text: str) -> str:
    """One line of printable ASCII, at most 100 characters, as SNS requires."""
    printable = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in " ".join(text.split()))
    if len(printable) <= MAX_SUBJECT:
        return printable
    return printable[: MAX_SUBJECT - 3] + "..."


def publish(
    sns: SNSClient,
    *,
    topic_arn: str,
    subject: str,
    body: str,
    attributes: Mapping[str, str],
) -> str:
    """Publish one message; returns its MessageId."""
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=subject_line(subject),
        Message=body,
        MessageAttributes={
            name: {"DataType": "String", "StringValue": value}
            for name, value in attributes.items()
            if value
        },
    )
    return response["MessageId"]
