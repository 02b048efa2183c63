"""The ``greenlight`` context: what parses, and the exact message for what does not."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from deploy.resources import resource_name
from shared.config import (
    ConfigError,
    GreenlightConfig,
    config_from_context,
    load_config,
    parse_config,
)

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def _stage(name: str, endpoint: str, **overrides: Any) -> dict[str, Any]:
    stage: dict[str, Any] = {
        "name": name,
        "endpointName": endpoint,
        "instanceType": "ml.m5.large",
        "instanceCount": 2,
        "rollout": {"type": "ALL_AT_ONCE"},
        "alarms": {"errorRate5xx": 0.05, "modelLatencyMs": 500},
        "bakeMinutes": 5,
        "smokeTest": {"payload": "1,2,3"},
    }
    stage.update(overrides)
    return stage


def _valid() -> dict[str, Any]:
    return {
        "modelGroups": [
            {
                "name": "churn",
                "description": "Churn classifier",
                "modelDataBuckets": ["churn-model-artifacts"],
                "stages": [
                    _stage("staging", "churn-staging"),
                    _stage(
                        "production",
                        "churn-production",
                        instanceCount=4,
                        manualApprovalBefore=True,
                        rollout={"type": "CANARY", "canaryPercent": 25, "waitSeconds": 300},
                    ),
                ],
            }
        ]
    }


def _refusal(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return str(caught.value)


# --- the shipped example ------------------------------------------------------------


def test_shipped_cdk_json_example_parses_into_the_house_price_group_with_two_stages() -> None:
    # GIVEN the cdk.json shipped in the repository
    # WHEN it is loaded
    config = load_config(CDK_JSON)

    # THEN it holds the house-price group: staging all at once, production canary 10 %
    # behind a manual approval, gates off
    assert isinstance(config, GreenlightConfig)
    (group,) = config.model_groups
    assert group.name == "house-price-linear-learner"
    assert group.gates.required_reports == ()
    assert group.gates.separation_of_duties is False
    # the created execution role reads the bucket the sandbox's story registers artifacts in
    assert group.model_execution_role_arn is None
    assert group.model_data_buckets == ("greenlight-sandbox-models",)
    staging, production = group.stages
    assert (staging.name, staging.instance_type, staging.instance_count) == (
        "staging",
        "ml.m5.large",
        1,
    )
    assert staging.rollout.type == "ALL_AT_ONCE"
    assert staging.bake_minutes == 5
    assert staging.manual_approval_before is False
    assert (production.instance_type, production.instance_count) == ("ml.m5.xlarge", 3)
    assert production.rollout.type == "CANARY"
    assert production.rollout.canary_percent == 10
    assert production.rollout.wait_seconds == 300
    assert production.bake_minutes == 15
    assert production.manual_approval_before is True
    assert staging.smoke_test.content_type == "text/csv"
    assert re.fullmatch(r"[-0-9.,]+", production.smoke_test.payload)


def test_parsed_config_is_frozen() -> None:
    # GIVEN a parsed configuration
    config = parse_config(_valid())

    # WHEN a field is assigned THEN the dataclass refuses
    with pytest.raises(AttributeError):
        config.model_groups[0].stages[0].bake_minutes = 99  # type: ignore[misc]


def test_defaults_fill_optional_keys() -> None:
    # GIVEN a group that sets none of the optional keys
    group = parse_config(_valid()).model_groups[0]

    # THEN the documented defaults apply
    assert group.keep_endpoint_configs == 3
    assert group.retain_endpoints_on_destroy is False
    assert group.model_execution_role_arn is None
    assert group.share_with_accounts == ()
    assert group.stages[0].alarms.error_rate_4xx is None
    assert group.stages[0].rollout.maximum_execution_timeout_seconds == 3600


def test_canary_rollout_maps_to_deploy_parameters_percent() -> None:
    # GIVEN a canary stage
    production = parse_config(_valid()).model_groups[0].stages[1]

    # WHEN it is turned into the Deploy action's rollout
    rollout = production.rollout.to_parameters()

    # THEN the canary percent and waits carry over
    assert (rollout.type, rollout.percent, rollout.wait_seconds) == ("CANARY", 25, 300)


def test_missing_greenlight_context_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^greenlight: required context key"):
        config_from_context({"some-other-key": 1})


# --- unknown keys -------------------------------------------------------------------


def test_unknown_top_level_key_is_refused_with_a_suggestion() -> None:
    # GIVEN a typo in a top-level key
    raw = _valid()
    raw["notificationEmail"] = ["ops@example.com"]

    # WHEN parsed THEN the message names the key and the closest known one
    message = _refusal(raw)
    assert message.startswith("greenlight.notificationEmail: unknown key")
    assert "did you mean 'notificationEmails'?" in message


def test_unknown_key_inside_a_rollout_names_its_full_path() -> None:
    # GIVEN a typo inside the second stage's rollout
    raw = _valid()
    raw["modelGroups"][0]["stages"][1]["rollout"]["canaryPercentage"] = 10

    # WHEN parsed THEN the path points at the exact key and suggests canaryPercent
    message = _refusal(raw)
    assert message.startswith(
        "greenlight.modelGroups[0].stages[1].rollout.canaryPercentage: unknown key"
    )
    assert "did you mean 'canaryPercent'?" in message


# --- wrong types --------------------------------------------------------------------


def test_instance_count_given_as_a_string_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][0]["instanceCount"] = "2"

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[0].instanceCount: expected an integer >= 1, "
        'got string "2"'
    )


def test_boolean_is_not_accepted_as_an_integer() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][0]["bakeMinutes"] = True

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[0].bakeMinutes: expected 0..120, got boolean true"
    )


def test_stages_given_as_an_object_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"] = {"staging": {}}

    assert _refusal(raw) == "greenlight.modelGroups[0].stages: expected a list, got an object"


def test_manual_approval_given_as_a_string_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][1]["manualApprovalBefore"] = "yes"

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[1].manualApprovalBefore: expected true or false, "
        'got string "yes"'
    )


def test_missing_smoke_test_payload_is_refused() -> None:
    raw = _valid()
    del raw["modelGroups"][0]["stages"][0]["smokeTest"]["payload"]

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[0].smokeTest.payload: required, but missing"
    )


# --- out-of-range values ------------------------------------------------------------


def test_canary_percent_above_fifty_is_refused_with_the_documented_message() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][1]["rollout"]["canaryPercent"] = 80

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[1].rollout.canaryPercent: expected 1..50, got 80"
    )


def test_bake_minutes_above_two_hours_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][0]["bakeMinutes"] = 121

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[0].bakeMinutes: expected 0..120, got 121"
    )


@pytest.mark.parametrize("rate", [0, 1.5, -0.1])
def test_error_rate_outside_zero_to_one_is_refused(rate: float) -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][0]["alarms"]["errorRate5xx"] = rate

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[0].alarms.errorRate5xx: expected a number "
        f"with 0 < x <= 1, got {rate!r}"
    )


def test_keep_endpoint_configs_above_twenty_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["keepEndpointConfigs"] = 21

    assert _refusal(raw) == "greenlight.modelGroups[0].keepEndpointConfigs: expected 1..20, got 21"


def test_datapoints_above_evaluation_periods_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][0]["alarms"].update(evaluationPeriods=2, datapointsToAlarm=3)

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[0].alarms.datapointsToAlarm: expected at most "
        "evaluationPeriods (2), got 3"
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("endpointName", "Churn-Staging", "lowercase letters, digits and hyphens"),
        ("endpointName", "e" * 50, "lowercase letters, digits and hyphens, at most 49"),
        ("endpointName", "e" + "-e" * 25, "lowercase letters, digits and hyphens, at most 49"),
        ("name", "Staging", "lowercase letters, digits and single hyphens"),
        ("instanceType", "m5.large", "a SageMaker instance type like ml.m5.large"),
    ],
)
def test_badly_formed_names_are_refused(key: str, value: str, expected: str) -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][0][key] = value

    message = _refusal(raw)
    assert message.startswith(f"greenlight.modelGroups[0].stages[0].{key}: expected {expected}")
    assert json.dumps(value) in message


def test_a_group_name_over_63_characters_counting_hyphens_is_refused() -> None:
    # GIVEN a group name of 65 characters, most of them hyphens between letters
    raw = _valid()
    raw["modelGroups"][0]["name"] = "g" + "-g" * 32

    # THEN it is refused with the limit named
    message = _refusal(raw)
    assert message.startswith("greenlight.modelGroups[0].name: expected a model package group")
    assert "1-63 characters" in message


def test_names_at_their_limits_are_accepted_and_deploy_can_name_their_configs() -> None:
    # GIVEN a group name at SageMaker's 63 characters and an endpoint name at 49
    raw = _valid()
    raw["modelGroups"][0]["name"] = "g" + "-g" * 31
    raw["modelGroups"][0]["stages"][0]["endpointName"] = "e" + "-e" * 24

    # WHEN parsed
    (group,) = parse_config(raw).model_groups

    # THEN both are kept, and Deploy's config name for version 99999 still fits
    assert len(group.name) == 63
    endpoint = group.stages[0].endpoint_name
    assert len(endpoint) == 49
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group.name}/99999"
    assert len(resource_name(endpoint, arn, "job-id")) <= 63


def test_share_with_an_account_id_that_is_not_twelve_digits_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["shareWithAccounts"] = ["12345"]

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].shareWithAccounts[0]: expected a 12-digit account id, "
        'got "12345"'
    )


def test_unknown_required_report_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["gates"] = {"requiredReports": ["Fairness"]}

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].gates.requiredReports[0]: expected one of ModelQuality, "
        'ModelDataQuality, Bias, Explainability, got string "Fairness"'
    )


def test_invalid_expected_pattern_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][0]["smokeTest"]["expectedPattern"] = "^(unclosed"

    assert _refusal(raw).startswith(
        "greenlight.modelGroups[0].stages[0].smokeTest.expectedPattern: expected a valid "
        "regular expression"
    )


# --- structure ----------------------------------------------------------------------


def test_empty_stage_list_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"] = []

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages: expected at least one entry, got an empty list"
    )


def test_empty_model_group_list_is_refused() -> None:
    assert _refusal({"modelGroups": []}) == (
        "greenlight.modelGroups: expected at least one entry, got an empty list"
    )


def test_endpoint_name_used_by_two_groups_is_refused() -> None:
    # GIVEN a second group whose staging endpoint has the first group's name
    raw = _valid()
    second = copy.deepcopy(raw["modelGroups"][0])
    second["name"] = "fraud"
    second["stages"][0]["endpointName"] = "fraud-staging"
    second["stages"][1]["endpointName"] = "churn-staging"
    raw["modelGroups"].append(second)

    # WHEN parsed THEN the duplicate is named with both places
    assert _refusal(raw) == (
        "greenlight.modelGroups[1].stages[1].endpointName: expected an endpoint name unique "
        "across all groups, got 'churn-staging' (also modelGroups[0].stages[0])"
    )


def test_duplicate_stage_name_in_a_group_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][1]["name"] = "staging"

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[1].name: expected a stage name unique in the "
        "group, got 'staging' (also stages[0])"
    )


def test_manual_approval_before_the_first_stage_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][0]["manualApprovalBefore"] = True

    assert _refusal(raw).startswith(
        "greenlight.modelGroups[0].stages[0].manualApprovalBefore: expected false on the "
        "first stage"
    )


# --- rollouts SageMaker would refuse ------------------------------------------------


def test_canary_on_a_single_instance_is_refused() -> None:
    # GIVEN a canary on one instance: no fleet would be left on the old version
    raw = _valid()
    raw["modelGroups"][0]["stages"][1]["instanceCount"] = 1

    message = _refusal(raw)
    assert message.startswith("greenlight.modelGroups[0].stages[1].rollout.type: CANARY ")
    assert "needs instanceCount >= 2, got 1" in message


def test_linear_step_below_ten_percent_is_refused() -> None:
    # GIVEN a linear step SageMaker refuses (LinearStepSize must be 10-50 %)
    raw = _valid()
    raw["modelGroups"][0]["stages"][1]["rollout"] = {"type": "LINEAR", "linearStepPercent": 5}

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[1].rollout.linearStepPercent: expected 10..50, got 5"
    )


def test_linear_waits_longer_than_the_maximum_execution_timeout_are_refused() -> None:
    # GIVEN 4 linear steps of 25 % with 20-minute waits (3 waits) inside a 1-hour timeout
    raw = _valid()
    raw["modelGroups"][0]["stages"][1]["rollout"] = {
        "type": "LINEAR",
        "linearStepPercent": 25,
        "waitSeconds": 1200,
        "terminationWaitSeconds": 600,
        "maximumExecutionTimeoutSeconds": 3600,
    }

    # THEN the timeout is refused and the message shows the arithmetic
    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[1].rollout.maximumExecutionTimeoutSeconds: "
        "expected more than the rollout's waits (4200 s: 3 x waitSeconds 1200 + "
        "terminationWaitSeconds 600), got 3600"
    )


def test_wait_interval_above_an_hour_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][1]["rollout"]["waitSeconds"] = 3601

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[1].rollout.waitSeconds: expected 0..3600, got 3601"
    )


def test_maximum_execution_timeout_below_ten_minutes_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][0]["rollout"]["maximumExecutionTimeoutSeconds"] = 300

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[0].rollout.maximumExecutionTimeoutSeconds: "
        "expected 600..28800, got 300"
    )


def test_canary_percent_on_an_all_at_once_rollout_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][0]["rollout"]["canaryPercent"] = 10

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[0].rollout.canaryPercent: only valid with type "
        "CANARY, not ALL_AT_ONCE"
    )


def test_unknown_rollout_type_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["stages"][0]["rollout"]["type"] = "BLUE_GREEN"

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].stages[0].rollout.type: expected one of ALL_AT_ONCE, "
        'CANARY, LINEAR, got string "BLUE_GREEN"'
    )


# --- adopting an existing model package group ---------------------------------------


def test_adopting_an_existing_group_is_read_from_the_group() -> None:
    # GIVEN a group that says it already exists in the account
    raw = _valid()
    raw["modelGroups"][0]["adoptExistingGroup"] = True

    # WHEN parsed THEN the group is marked for adoption
    assert parse_config(raw).model_groups[0].adopt_existing_group is True


def test_adopting_a_group_and_sharing_it_is_refused_naming_the_key() -> None:
    # GIVEN an adopted group that also asks for a resource policy the stack cannot set
    raw = _valid()
    raw["modelGroups"][0]["adoptExistingGroup"] = True
    raw["modelGroups"][0]["shareWithAccounts"] = ["111122223333"]

    # WHEN parsed THEN the refusal names the key path and says what to do instead
    message = _refusal(raw)
    assert message.startswith("greenlight.modelGroups[0].adoptExistingGroup: cannot be true")
    assert "PutModelPackageGroupPolicy" in message


# --- model data: what the execution role may read ------------------------------------

KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MULTI_REGION_KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
ROLE_ARN = "arn:aws:iam::111122223333:role/greenlight/platform-sagemaker"


def test_model_data_buckets_and_kms_keys_are_read_from_the_group() -> None:
    # GIVEN a group whose artifacts are encrypted with two customer managed keys
    raw = _valid()
    raw["modelGroups"][0]["modelDataBuckets"] = ["churn-models", "shared.models"]
    raw["modelGroups"][0]["modelDataKmsKeyArns"] = [KEY_ARN, MULTI_REGION_KEY_ARN]

    # WHEN parsed
    group = parse_config(raw).model_groups[0]

    # THEN both lists are kept, in order
    assert group.model_data_buckets == ("churn-models", "shared.models")
    assert group.model_data_kms_key_arns == (KEY_ARN, MULTI_REGION_KEY_ARN)


def test_a_group_without_an_execution_role_must_name_its_model_data_buckets() -> None:
    # GIVEN a group that lets the stack create the execution role but names no bucket
    raw = _valid()
    del raw["modelGroups"][0]["modelDataBuckets"]

    # WHEN parsed THEN the refusal names the key and says what to add
    message = _refusal(raw)
    assert message.startswith(
        "greenlight.modelGroups[0].modelDataBuckets: required when modelExecutionRoleArn is not set"
    )
    assert "modelDataKmsKeyArns" in message
    assert "modelExecutionRoleArn" in message


def test_an_empty_model_data_bucket_list_without_an_execution_role_is_refused() -> None:
    # GIVEN a created execution role that would be allowed to read nothing
    raw = _valid()
    raw["modelGroups"][0]["modelDataBuckets"] = []

    # WHEN parsed THEN the refusal names the key
    assert _refusal(raw).startswith(
        "greenlight.modelGroups[0].modelDataBuckets: required when modelExecutionRoleArn is "
        "not set: expected at least one S3 bucket name, got an empty list"
    )


@pytest.mark.parametrize(
    "value",
    [
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:eu-west-1:111122223333:alias/model-data",
        "arn:aws:s3:::churn-models",
        "arn:aws:kms:eu-west-1:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ],
    ids=["key-id", "alias-arn", "not-kms", "short-account"],
)
def test_a_model_data_kms_key_that_is_not_a_key_arn_is_refused(value: str) -> None:
    # GIVEN a KMS key named by something other than its key ARN
    raw = _valid()
    raw["modelGroups"][0]["modelDataKmsKeyArns"] = [KEY_ARN, value]

    # WHEN parsed THEN the refusal names the entry and the expected form
    assert _refusal(raw) == (
        "greenlight.modelGroups[0].modelDataKmsKeyArns[1]: expected a KMS key ARN "
        "(arn:aws:kms:REGION:ACCOUNT:key/KEY-ID; not an alias), got " + json.dumps(value)
    )


def test_a_model_data_bucket_listed_twice_is_refused() -> None:
    raw = _valid()
    raw["modelGroups"][0]["modelDataBuckets"] = ["churn-models", "churn-models"]

    assert _refusal(raw) == (
        "greenlight.modelGroups[0].modelDataBuckets: expected no duplicates, got "
        "'churn-models' twice"
    )


def test_a_configured_execution_role_needs_no_model_data_buckets() -> None:
    # GIVEN a group that runs its models with the platform team's own role
    raw = _valid()
    del raw["modelGroups"][0]["modelDataBuckets"]
    raw["modelGroups"][0]["modelExecutionRoleArn"] = ROLE_ARN

    # WHEN parsed THEN the role is used and no bucket is granted
    group = parse_config(raw).model_groups[0]
    assert group.model_execution_role_arn == ROLE_ARN
    assert group.model_data_buckets == ()
    assert group.model_data_kms_key_arns == ()


def test_a_configured_execution_role_outside_the_greenlight_path_is_refused() -> None:
    # GIVEN a group naming a role the shared Deploy function may not pass
    raw = _valid()
    del raw["modelGroups"][0]["modelDataBuckets"]
    raw["modelGroups"][0]["modelExecutionRoleArn"] = "arn:aws:iam::111122223333:role/sagemaker"

    # WHEN parsed THEN the refusal names the key and the path the role must live under
    message = _refusal(raw)
    assert message.startswith("greenlight.modelGroups[0].modelExecutionRoleArn: expected ")
    assert "/greenlight/" in message
    assert '"arn:aws:iam::111122223333:role/sagemaker"' in message


@pytest.mark.parametrize(
    ("key", "value"), [("modelDataBuckets", ["churn-models"]), ("modelDataKmsKeyArns", [KEY_ARN])]
)
def test_model_data_access_next_to_a_configured_execution_role_is_refused(
    key: str, value: list[str]
) -> None:
    # GIVEN a configured role and model data access the stack could not grant to it
    raw = _valid()
    del raw["modelGroups"][0]["modelDataBuckets"]
    raw["modelGroups"][0]["modelExecutionRoleArn"] = ROLE_ARN
    raw["modelGroups"][0][key] = value

    # WHEN parsed THEN the refusal says the configured role must hold that access itself
    message = _refusal(raw)
    assert message.startswith(
        f"greenlight.modelGroups[0].{key}: cannot be set together with modelExecutionRoleArn"
    )
    assert "remove" in message
