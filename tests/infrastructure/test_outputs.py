"""The stack outputs the ``greenlight`` CLI reads: ledger, topic, and each group's pipeline."""

from __future__ import annotations

import copy
from dataclasses import fields

import pytest
from aws_cdk.assertions import Match

from shared import contract
from shared.config import parse_config
from stacks.app import build_app
from stacks.shared_refs import SharedRefs, export_name
from tests.infrastructure.conftest import GATED_CONTEXT, Synthesized

pytestmark = pytest.mark.infrastructure


def test_ledger_and_topic_outputs_have_the_ids_the_cli_reads(synthesized: Synthesized) -> None:
    (ledger_id,) = synthesized.resources("AWS::DynamoDB::Table")
    (topic_id,) = synthesized.resources("AWS::SNS::Topic")
    synthesized.template.has_output(contract.OUTPUT_LEDGER_TABLE, {"Value": {"Ref": ledger_id}})
    synthesized.template.has_output(contract.OUTPUT_TOPIC_ARN, {"Value": {"Ref": topic_id}})


def test_each_group_stack_outputs_its_pipeline_name_and_nothing_else(
    synthesized: Synthesized,
) -> None:
    for group in synthesized.config.model_groups:
        stack = synthesized.group(group.name)
        (pipeline_id,) = stack.resources("AWS::CodePipeline::Pipeline")
        stack.template.has_output(
            contract.pipeline_output_id(group.name),
            {"Value": {"Ref": pipeline_id}, "Description": Match.string_like_regexp(group.name)},
        )
        assert set(stack.template_json["Outputs"]) == {contract.pipeline_output_id(group.name)}
        assert stack.name == contract.group_stack_name(group.name)


def test_shared_outputs_are_ledger_topic_and_the_named_exports_whatever_the_groups(
    synthesized: Synthesized,
) -> None:
    outputs = synthesized.template_json["Outputs"]
    exports = {o["Export"]["Name"] for o in outputs.values() if "Export" in o}
    assert exports == {export_name(field.name) for field in fields(SharedRefs)}
    plain = {key for key, output in outputs.items() if "Export" not in output}
    assert plain == {contract.OUTPUT_LEDGER_TABLE, contract.OUTPUT_TOPIC_ARN}


@pytest.mark.parametrize(
    ("group", "output_id"),
    [
        ("house-price-linear-learner", "PipelineNameHousePriceLinearLearner"),
        ("fraud-detector", "PipelineNameFraudDetector"),
        ("churn", "PipelineNameChurn"),
        ("model2--v3", "PipelineNameModel2V3"),
        ("XGBoost-ranker", "PipelineNameXGBoostRanker"),
    ],
)
def test_pipeline_output_id_is_the_group_name_in_camel_case(group: str, output_id: str) -> None:
    assert contract.pipeline_output_id(group) == output_id


def test_two_groups_that_would_share_an_output_id_are_refused_by_name() -> None:
    # GIVEN two groups whose names differ only by a hyphen and a capital
    context = copy.deepcopy(GATED_CONTEXT)
    second = context["modelGroups"][1]
    second["name"] = "fraudDetector"
    second["stages"][0]["endpointName"] = "fraud-detector-live"
    config = parse_config(context)

    # WHEN the app is built THEN the error names both groups and the output
    with pytest.raises(ValueError, match="PipelineNameFraudDetector") as raised:
        build_app(config)
    assert "'fraud-detector'" in str(raised.value)
    assert "'fraudDetector'" in str(raised.value)
