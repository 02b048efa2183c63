"""Injected faults: by function and operation, before the call or after it took effect,
in the service's own error shape, with the SDK's retries counted as attempts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from pipeline_scripts.emulation.checkpoint import RequestCheckpoint
from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.faults import FaultInjector, ProcessCrashed, UnknownFault
from pipeline_scripts.emulation.iam import function_access_key
from shared.clock import install_clock

pytestmark = pytest.mark.integration

DEPLOY = "greenlight-deploy"
TRIGGER = "greenlight-trigger"


@pytest.fixture
def faults() -> Iterator[FaultInjector]:
    injector = FaultInjector({DEPLOY: "deploy", TRIGGER: "approval_trigger"})
    checkpoint = RequestCheckpoint()
    checkpoint.add(injector)
    checkpoint.add_after(injector.after)
    clock = VirtualClock()
    install_clock(clock)
    with mock_aws():
        checkpoint.install()
        try:
            with injector.installed():
                yield injector
        finally:
            checkpoint.uninstall()
            install_clock(None)


def _client(service: str, function: str, *, attempts: int = 1) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name="us-east-1",
        aws_access_key_id=function_access_key(function),
        aws_secret_access_key="sandbox",
        config=Config(retries={"mode": "legacy", "total_max_attempts": attempts}),
    )


def test_a_throttle_refuses_only_the_named_functions_calls_to_the_named_operation(
    faults: FaultInjector,
) -> None:
    # GIVEN one throttle on Deploy's ListQueues
    fault = faults.inject(function="deploy", operation="ListQueues", kind="throttle")

    # WHEN the trigger calls it, then Deploy does, twice
    _client("sqs", TRIGGER).list_queues()
    with pytest.raises(ClientError) as raised:
        _client("sqs", DEPLOY).list_queues()
    _client("sqs", DEPLOY).list_queues()

    # THEN only Deploy's first call was throttled, in the query protocol's code
    assert raised.value.response["Error"]["Code"] == "Throttling"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fault.hits == 1
    assert faults.injected == 1


def test_a_5xx_answers_internal_failure_in_a_json_service(faults: FaultInjector) -> None:
    # GIVEN a 503 on every DynamoDB call of Deploy's, once
    faults.inject(function="deploy", kind="5xx", status=503)

    # WHEN Deploy lists tables
    with pytest.raises(ClientError) as raised:
        _client("dynamodb", DEPLOY).list_tables()

    # THEN it hears ServiceUnavailable, HTTP 503
    assert raised.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_an_error_after_the_call_took_effect_leaves_its_effect_behind(
    faults: FaultInjector,
) -> None:
    # GIVEN CreateQueue answering 500 after it ran
    faults.inject(function="deploy", operation="CreateQueue", kind="after")

    # WHEN Deploy creates a queue
    with pytest.raises(ClientError) as raised:
        _client("sqs", DEPLOY).create_queue(QueueName="made-anyway")

    # THEN it heard InternalFailure, and the queue exists
    assert raised.value.response["Error"]["Code"] == "InternalFailure"
    urls = _client("sqs", TRIGGER).list_queues().get("QueueUrls", [])
    assert any(url.endswith("/made-anyway") for url in urls)


def test_a_crash_kills_the_caller_after_the_call_took_effect(faults: FaultInjector) -> None:
    # GIVEN a crash on Deploy's CreateQueue
    faults.inject(function="deploy", operation="CreateQueue", kind="crash")

    # WHEN Deploy creates a queue
    with pytest.raises(ProcessCrashed) as crashed:
        _client("sqs", DEPLOY).create_queue(QueueName="made-before-the-crash")

    # THEN no `except Exception` in the function's code could have caught it
    assert not isinstance(crashed.value, Exception)

    # AND the queue exists
    urls = _client("sqs", TRIGGER).list_queues().get("QueueUrls", [])
    assert any(url.endswith("/made-before-the-crash") for url in urls)


def test_the_sdk_retries_count_as_attempts_and_wait_on_the_virtual_clock(
    faults: FaultInjector,
) -> None:
    # GIVEN two throttles on Deploy's ListQueues, and a client allowed three attempts
    fault = faults.inject(function="deploy", operation="ListQueues", kind="throttle", times=2)
    clock = VirtualClock()
    install_clock(clock)
    before = clock.now()

    # WHEN Deploy lists queues
    _client("sqs", DEPLOY, attempts=3).list_queues()

    # THEN the third attempt succeeded, after back-off that passed in virtual time
    assert fault.hits == 2
    assert clock.now() > before


def test_a_delay_passes_virtual_time_before_the_call(faults: FaultInjector) -> None:
    # GIVEN a 40-second delay on Deploy's ListQueues
    faults.inject(function="deploy", operation="ListQueues", kind="delay", seconds=40)
    clock = VirtualClock()
    install_clock(clock)
    before = clock.now()

    # WHEN Deploy lists queues
    _client("sqs", DEPLOY).list_queues()

    # THEN 40 virtual seconds passed
    assert (clock.now() - before).total_seconds() == 40


def test_skip_lets_the_first_matching_requests_through(faults: FaultInjector) -> None:
    # GIVEN a throttle that lets one ListQueues pass first
    faults.inject(function="deploy", operation="ListQueues", kind="throttle", skip=1)

    # WHEN Deploy lists queues twice
    _client("sqs", DEPLOY).list_queues()

    # THEN the second call is the one throttled
    with pytest.raises(ClientError):
        _client("sqs", DEPLOY).list_queues()


def test_a_fault_on_an_unknown_function_or_kind_is_refused_naming_it(
    faults: FaultInjector,
) -> None:
    # WHEN a fault names no function of the template, or no kind
    with pytest.raises(UnknownFault, match=r"no function 'bake'.*approval_trigger, deploy"):
        faults.inject(function="bake", kind="throttle")
    with pytest.raises(UnknownFault, match="fault kind 'flood'"):
        faults.inject(function="deploy", kind="flood")  # type: ignore[arg-type]
