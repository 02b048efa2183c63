"""Every command says an AWS refusal the same way, through ``pipeline_scripts.errors``:
what it was doing, then ``Code: message`` with botocore's prefix said once."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from pipeline_scripts import stack_outputs
from pipeline_scripts.errors import GreenlightError, NotFound, Refused
from pipeline_scripts.rollback import _target
from shared.pipeline_history import PipelineHistory

PREFIXED = (
    "An error occurred (AccessDeniedException) when calling the ListPipelineExecutions "
    "operation: not authorized"
)


def _client(service: str) -> Any:
    return boto3.client(
        service, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )


def test_a_refused_rollback_listing_names_what_it_did_and_the_aws_code_once() -> None:
    # GIVEN CodePipeline refusing to list the pipeline's executions, its message prefixed
    codepipeline = _client("codepipeline")
    stubber = Stubber(codepipeline)
    stubber.add_client_error(
        "list_pipeline_executions",
        service_error_code="AccessDeniedException",
        service_message=PREFIXED,
    )

    # WHEN greenlight rollback looks for its target
    with stubber, pytest.raises(Refused) as raised:
        _target(PipelineHistory(codepipeline, "greenlight-g"), "staging", None, lambda _: None)

    # THEN one line says what it was doing, then the code and message, each once
    assert str(raised.value) == (
        "cannot list executions of greenlight-g: AccessDeniedException: not authorized"
    )


def test_a_stack_the_cli_cannot_read_is_named_with_the_aws_code_and_message() -> None:
    # GIVEN CloudFormation refusing DescribeStacks
    cloudformation = _client("cloudformation")
    stubber = Stubber(cloudformation)
    stubber.add_client_error(
        "describe_stacks", service_error_code="AccessDenied", service_message="no access"
    )

    # WHEN the CLI reads the Greenlight stack's outputs
    with stubber, pytest.raises(GreenlightError) as raised:
        stack_outputs.stack_outputs(cloudformation)

    # THEN the line names the stack, the code and the message
    assert str(raised.value) == "cannot read stack Greenlight: AccessDenied: no access"


def test_a_missing_stack_is_not_found_with_cloudformation_s_own_words() -> None:
    # GIVEN no Greenlight stack
    cloudformation = _client("cloudformation")
    stubber = Stubber(cloudformation)
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id Greenlight does not exist",
    )

    # WHEN the CLI reads the stack's outputs
    with stubber, pytest.raises(NotFound) as raised:
        stack_outputs.stack_outputs(cloudformation)

    # THEN it says so and how to do without it
    assert str(raised.value).startswith(
        "stack Greenlight not found (Stack with id Greenlight does not exist); deploy it"
    )
