"""Errors the CLI turns into one clear line on stderr and a documented exit code, and
the one place an AWS error becomes such a line."""

from __future__ import annotations

import os
import re

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

#: Exit codes, documented in the README.
EXIT_OK = 0
EXIT_FAILURE = 1  # the command ran and what it checked failed (e.g. a sandbox expectation)
EXIT_USAGE = 2  # bad arguments: argparse's own code, kept for our validation errors too
EXIT_NOT_FOUND = 3  # unknown group, version or stage
EXIT_REFUSED = 4  # AWS (or a gate) refused the request, e.g. a transition SageMaker refuses
EXIT_NO_CREDENTIALS = 5  # no AWS credentials could be found
EXIT_UNREACHABLE = 6  # AWS (or the sandbox server) or a file could not be reached


class GreenlightError(Exception):
    """An error with a message fit for a person and the exit code that goes with it."""

    exit_code = EXIT_FAILURE


class UsageError(GreenlightError):
    exit_code = EXIT_USAGE


class NotFound(GreenlightError):
    exit_code = EXIT_NOT_FOUND


class Refused(GreenlightError):
    exit_code = EXIT_REFUSED


class NoCredentials(GreenlightError):
    exit_code = EXIT_NO_CREDENTIALS


class Unreachable(GreenlightError):
    exit_code = EXIT_UNREACHABLE


NO_REGION = "no AWS region: pass --region or set AWS_REGION"

#: botocore's own prefix, which some services (and emulators) repeat inside the message.
_BOTOCORE_PREFIX = re.compile(
    r"^An error oc+ur+ed \([^)]*\) when calling the \w+ operation(?: \([^)]*\))?: "
)


def aws_code(error: ClientError) -> str:
    """The AWS error code (``ValidationException``, ``PipelineNotFoundException``, …)."""
    return str(error.response.get("Error", {}).get("Code") or "")


def aws_detail(error: ClientError) -> str:
    """The message of an AWS error, without botocore's prefix repeated inside it."""
    message = str(error.response.get("Error", {}).get("Message") or "")
    while _BOTOCORE_PREFIX.match(message):
        message = _BOTOCORE_PREFIX.sub("", message, count=1)
    return message


def aws_message(error: ClientError) -> str:
    """``Code: message`` of an AWS error, said once."""
    code = aws_code(error) or "Unknown"
    message = aws_detail(error)
    return f"{code}: {message}" if message else code


def refused(error: ClientError, doing: str) -> Refused:
    """An AWS refusal of ``doing`` (e.g. "cannot roll back production"), as one line."""
    return Refused(f"{doing}: {aws_message(error)}")


def unreachable(error: EndpointConnectionError) -> Unreachable:
    """AWS, or the sandbox server AWS_ENDPOINT_URL names, did not answer."""
    url = error.kwargs.get("endpoint_url", "AWS")
    hint = (
        "is the sandbox running? start it with `greenlight sandbox serve`, "
        "or unset AWS_ENDPOINT_URL to use AWS"
        if os.environ.get("AWS_ENDPOINT_URL")
        else "check the network and the region"
    )
    return Unreachable(f"cannot reach {url} ({hint})")


def error_line(error: BaseException) -> GreenlightError | None:
    """What the CLI says for an error no command translated, or None if it is a bug."""
    if isinstance(error, GreenlightError):
        return error
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if isinstance(error, NoCredentialsError):
        hint = (
            "the sandbox server takes any key: export the AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY that `greenlight sandbox serve` prints"
            if endpoint
            else "set AWS_PROFILE or AWS_ACCESS_KEY_ID, or point AWS_ENDPOINT_URL at a "
            "sandbox started with `greenlight sandbox serve`"
        )
        return NoCredentials(f"no AWS credentials found ({hint})")
    if isinstance(error, NoRegionError):
        return UsageError(NO_REGION)
    if isinstance(error, EndpointConnectionError):
        return unreachable(error)
    if isinstance(error, ClientError):
        return refused(error, "AWS refused the request")
    if isinstance(error, BotoCoreError):
        return Unreachable(f"AWS call failed: {error}")
    if isinstance(error, OSError):
        name = f" {error.filename}" if error.filename else ""
        return Unreachable(f"cannot read or write{name}: {error.strerror or error}")
    return None
