"""The request checkpoint: every request, of any protocol, is decoded and checked
before moto serves it, and a refusal reaches the caller as that service's own error."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from pipeline_scripts.emulation.checkpoint import (
    RequestCheckpoint,
    RequestRefused,
    ServiceRequest,
)

KEY = "AKIAGREENLIGHTCHECK1"


@pytest.fixture
def checkpoint() -> Iterator[RequestCheckpoint]:
    checkpoint = RequestCheckpoint()
    with mock_aws():
        checkpoint.install()
        try:
            yield checkpoint
        finally:
            checkpoint.uninstall()


def _client(service: str) -> object:
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key="sandbox",
    )


@pytest.mark.parametrize(
    ("service", "call", "operation", "params"),
    [
        (
            "cloudwatch",
            lambda c: c.describe_alarms(AlarmNames=["a"]),
            "DescribeAlarms",
            {"AlarmNames": ["a"]},
        ),
        ("codepipeline", lambda c: c.get_pipeline(name="p"), "GetPipeline", {"name": "p"}),
        (
            "sagemaker-runtime",
            lambda c: c.invoke_endpoint(EndpointName="e", Body=b"1"),
            "InvokeEndpoint",
            {"EndpointName": "e", "Body": b"1"},
        ),
        (
            "dynamodb",
            lambda c: c.describe_table(TableName="t"),
            "DescribeTable",
            {"TableName": "t"},
        ),
        ("s3", lambda c: c.list_buckets(), "ListBuckets", {}),
        ("sts", lambda c: c.get_caller_identity(), "GetCallerIdentity", {}),
    ],
)
def test_a_request_is_decoded_with_the_service_model_and_refused_in_its_protocol(
    checkpoint: RequestCheckpoint,
    service: str,
    call: object,
    operation: str,
    params: dict[str, object],
) -> None:
    # GIVEN a check that records each request and refuses it
    seen: list[ServiceRequest] = []

    def refuse(request: ServiceRequest) -> None:
        seen.append(request)
        raise RequestRefused("AccessDenied", f"no {request.operation} for {request.access_key}")

    checkpoint.add(refuse)

    # WHEN a plain boto3 client calls the service
    with pytest.raises(ClientError) as raised:
        call(_client(service))  # type: ignore[operator]

    # THEN the check saw the operation, its parameters and the caller's key
    (request,) = seen
    assert (request.service, request.operation) == (service, operation)
    assert {k: v for k, v in request.params.items() if v is not None} == params
    assert (request.access_key, request.account) == (KEY, "123456789012")
    # AND the caller got the refusal as that service's error, code and message intact
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert raised.value.response["Error"]["Message"] == f"no {operation} for {KEY}"


def test_a_request_every_check_lets_through_is_served(checkpoint: RequestCheckpoint) -> None:
    # GIVEN a check that refuses only DeleteQueue
    def no_deletes(request: ServiceRequest) -> None:
        if request.operation == "DeleteQueue":
            raise RequestRefused("AccessDenied", "no deletes")

    # WHEN a queue is created and then deleted while the check runs
    sqs = _client("sqs")
    with checkpoint.checking(no_deletes):
        url = sqs.create_queue(QueueName="kept")["QueueUrl"]  # type: ignore[attr-defined]
        with pytest.raises(ClientError):
            sqs.delete_queue(QueueUrl=url)  # type: ignore[attr-defined]

    # THEN the create was served, the delete was not, and the check is gone afterwards
    assert sqs.list_queues()["QueueUrls"] == [url]  # type: ignore[attr-defined]
    sqs.delete_queue(QueueUrl=url)  # type: ignore[attr-defined]
    assert "QueueUrls" not in sqs.list_queues()  # type: ignore[attr-defined]
