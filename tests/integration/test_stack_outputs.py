"""Where the CLI finds the deployed groups: each group's own stack names its pipeline."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from pipeline_scripts.stack_outputs import deployed_groups, stack_outputs
from shared import contract


def _stack(cloudformation: object, name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))  # type: ignore[attr-defined]


def test_the_deployed_groups_are_those_whose_group_stacks_name_a_pipeline() -> None:
    with mock_aws():
        # GIVEN the shared stack, two group stacks, and someone else's stack with a
        # pipeline output of the same shape
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        _stack(cloudformation, contract.STACK_NAME, {contract.OUTPUT_LEDGER_TABLE: "ledger"})
        for group in ("houses", "churn"):
            _stack(
                cloudformation,
                contract.group_stack_name(group),
                {contract.pipeline_output_id(group): contract.pipeline_name(group)},
            )
        _stack(
            cloudformation, "Other", {contract.pipeline_output_id("x"): contract.pipeline_name("x")}
        )

        # WHEN the CLI looks for the deployed groups, and for the shared outputs
        groups = deployed_groups(cloudformation)
        shared = stack_outputs(cloudformation)

    # THEN it finds the two groups, and the ledger in the shared stack
    assert groups == ["churn", "houses"]
    assert shared == {contract.OUTPUT_LEDGER_TABLE: "ledger"}
