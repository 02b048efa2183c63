"""The sandbox validates every request against the service model, in-process and
through the sandbox server, whatever the client validated; what the functions write
back passes it."""

from __future__ import annotations

import socket
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from approval_trigger.approval import GATE_METADATA_KEY
from pipeline_scripts.sandbox.accounts import DATA_SCIENTIST_KEY, REGION
from pipeline_scripts.sandbox.server import SandboxServer
from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox
from shared.metadata import metadata_value

pytestmark = pytest.mark.e2e

#: No client-side validation: only the server can refuse.
UNCHECKED = Config(parameter_validation=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_sandbox_refuses_a_pipeline_variable_over_its_maximum(example_out: Path) -> None:
    # GIVEN the sandbox and a client that validates nothing
    with Sandbox(load_app(example_out)) as sandbox:
        codepipeline = boto3.client("codepipeline", region_name=REGION, config=UNCHECKED)
        pipeline = sandbox.app.pipelines[0].name

        # WHEN an emulated operation is called with a 1001-character variable
        with pytest.raises(ClientError) as raised:
            codepipeline.start_pipeline_execution(
                name=pipeline, variables=[{"name": "MODEL_PACKAGE_ARN", "value": "a" * 1001}]
            )

        # THEN it is refused before the emulation starts anything: the only execution is
        # the one creating the pipeline started
        assert raised.value.response["Error"]["Code"] == "ValidationException"
        assert "'variables.1.member.value'" in raised.value.response["Error"]["Message"]
        executions = codepipeline.list_pipeline_executions(pipelineName=pipeline)[
            "pipelineExecutionSummaries"
        ]
        assert [e["trigger"]["triggerType"] for e in executions] == ["CreatePipeline"]


def test_the_sandbox_server_refuses_a_metadata_value_outside_its_pattern(
    example_out: Path,
) -> None:
    # GIVEN the sandbox server and a client of it that validates nothing
    served = SandboxServer(load_app(example_out), port=_free_port(), log=lambda _line: None)
    served.start()
    try:
        sagemaker = boto3.client(
            "sagemaker",
            endpoint_url=served.endpoint_url,
            region_name=REGION,
            aws_access_key_id="AKIASANDBOXOPERATOR1",
            aws_secret_access_key="sandbox",
            config=UNCHECKED,
        )
        arn = f"arn:aws:sagemaker:{REGION}:123456789012:model-package/any/1"

        # WHEN it writes a metadata value holding ";"
        with pytest.raises(ClientError) as raised:
            sagemaker.update_model_package(
                ModelPackageArn=arn, CustomerMetadataProperties={"note": "a; b"}
            )
    finally:
        served.stop()

    # THEN the server answers with SageMaker's validation error for that member
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["Error"]["Message"].startswith(
        "1 validation error detected: Value 'a; b' at 'customerMetadataProperties.note'"
    )


def test_a_gate_refusal_with_brackets_commas_and_semicolons_is_written_back(
    gated_out: Path,
) -> None:
    with Sandbox(load_app(gated_out)) as sandbox:
        story = Story(sandbox, name="self-approval")
        # GIVEN a version without its reports, approved by the data scientist who registered it
        version = story.register("registered and approved by one person")
        sandbox.client("sagemaker", access_key=DATA_SCIENTIST_KEY).update_model_package(
            ModelPackageArn=version.arn, ModelApprovalStatus="Approved"
        )

        # WHEN the trigger refuses it on both gates
        story.settle()

        # THEN the refusal, "report(s) …, …; separation of duties …", was recorded in full
        (refusal,) = [o for o in story.outcomes() if o["outcome"] == "gate-rejected"]
        assert "report(s)" in refusal["reason"]
        assert "; separation of duties" in refusal["reason"]
        # AND written back as a metadata value SageMaker accepts
        described = sandbox.client("sagemaker").describe_model_package(ModelPackageName=version.arn)
        written = described["CustomerMetadataProperties"][GATE_METADATA_KEY]
        assert written == metadata_value(refusal["reason"])
        assert written.startswith(
            "required reports missing from ModelMetrics: ModelQuality Bias / separation of duties"
        )
