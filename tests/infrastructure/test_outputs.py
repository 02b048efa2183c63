"""The stack outputs the ``greenlight`` CLI reads: ledger, topic, and each group's pipeline."""

from __future__ import annotations

import copy

import pytest
from aws_cdk.assertions import Match

from shared import contract
from shared.config import parse_config
from stacks.app import build_app
from tests.infrastructure.conftest import GATED_CONTEXT, Synthesized

pytestmark = pytest.mark.infrastructure


def test_ledger_and_topic_outputs_have_the_ids_the_cli_reads(synthesized: Synthesized) -> None:
    (ledger_id,) = synthesized.resources("AWS::DynamoDB::Table")
    (topic_id,) = synthesized.resources("AWS::SNS::Topic")
    synthesized.template.has_output(contract.OUTPUT_LEDGER_TABLE, {"Value": {"Ref": ledger_id}})
    synthesized.template.has_output(contract.OUTPUT_TOPIC_ARN, {"Value": {"Ref": topic_id}})


def test_each_group_outputs_its_pipeline_name(synthesized: Synthesized) -> None:
    pipelines = {
        resource["Properties"]["Name"]: logical_id
        for logical_id, resource in synthesized.resources("AWS::CodePipeline::Pipeline").items()
    }
    for group in synthesized.config.model_groups:
        pipeline_id = pipelines[contract.pipeline_name(group.name)]
        synthesized.template.has_output(
            contract.pipeline_output_id(group.name),
            {"Value": {"Ref": pipeline_id}, "Description": Match.string_like_regexp(group.name)},
        )


def test_outputs_are_exactly_ledger_topic_and_one_pipeline_per_group(
    synthesized: Synthesized,
) -> None:
    outputs = set(synthesized.template_json["Outputs"])
    assert outputs == {
        contract.OUTPUT_LEDGER_TABLE,
        contract.OUTPUT_TOPIC_ARN,
        *(contract.pipeline_output_id(group.name) for group in synthesized.config.model_groups),
    }


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
