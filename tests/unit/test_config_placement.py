"""A stage's ``account`` and ``region``, the tooling account and region, and the
refusals of a placement that cannot work."""

from __future__ import annotations

from typing import Any

import pytest

from shared.config import ConfigError, parse_config
from tests.accounts_context import PRODUCTION, TOOLING, accounts_context

KEY = "arn:aws:kms:us-east-1:111111111111:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
_context = accounts_context


def _refusal(raw: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw)
    return raised.value


def test_a_stage_in_another_account_is_placed_there_and_the_others_stay_home() -> None:
    # GIVEN production in its own account
    # WHEN the context is parsed
    config = parse_config(_context())
    staging, production = config.model_groups[0].stages
    # THEN production is placed in that account and region, staging nowhere else
    assert config.placement(production) == (PRODUCTION, "us-east-1")
    assert config.placement(staging) is None
    assert config.target_accounts == ((PRODUCTION, "us-east-1"),)


def test_a_stage_naming_the_tooling_account_is_not_a_target() -> None:
    # GIVEN a stage that names the tooling account itself
    config = parse_config(_context({"account": TOOLING, "region": "us-east-1"}))
    # WHEN its placement is asked
    # THEN it runs at home
    assert config.target_accounts == ()


@pytest.mark.parametrize("account", ["2222", "22222222222a", 222222222222])
def test_an_account_that_is_not_twelve_digits_is_refused(account: Any) -> None:
    # GIVEN a malformed account
    # WHEN parsed
    error = _refusal(_context({"account": account}))
    # THEN the error names the field
    assert error.path == "greenlight.modelGroups[0].stages[1].account"


def test_a_region_without_sagemaker_is_refused_with_a_suggestion() -> None:
    # GIVEN a typo in the region
    # WHEN parsed
    error = _refusal(_context({"account": PRODUCTION, "region": "eu-west-9"}))
    # THEN the error names the field and the nearest SageMaker region
    assert error.path == "greenlight.modelGroups[0].stages[1].region"
    assert "where SageMaker is available" in error.problem
    assert "did you mean" in error.problem


def test_a_region_other_than_the_tooling_region_is_refused_saying_why() -> None:
    # GIVEN production in another (SageMaker) region
    # WHEN parsed
    error = _refusal(_context({"account": PRODUCTION, "region": "eu-west-1"}))
    # THEN it is refused: the model must be in the endpoint's region
    assert error.path == "greenlight.modelGroups[0].stages[1].region"
    assert "endpoint's own region" in error.problem


def test_a_stage_account_without_the_tooling_account_is_refused() -> None:
    # GIVEN a stage account but no tooling account
    raw = _context()
    del raw["toolingAccount"], raw["toolingRegion"]
    # WHEN parsed
    error = _refusal(raw)
    # THEN the error asks for the tooling account, naming the stage
    assert error.path == "greenlight.toolingAccount"
    assert "modelGroups[0].stages[1]" in error.problem


def test_the_tooling_account_needs_its_region() -> None:
    # GIVEN a tooling account without its region
    raw = _context()
    del raw["toolingRegion"]
    # WHEN parsed
    error = _refusal(raw)
    # THEN the missing key is named
    assert error.path == "greenlight.toolingRegion"


def test_a_cross_account_stage_refuses_a_configured_execution_role() -> None:
    # GIVEN a group whose model execution role is a tooling-account role
    raw = _context(modelExecutionRoleArn=f"arn:aws:iam::{TOOLING}:role/greenlight/model-runner")
    del raw["modelGroups"][0]["modelDataBuckets"]
    # WHEN parsed
    error = _refusal(raw)
    # THEN it says the role must be the model's account's and what to name instead
    assert error.path == "greenlight.modelGroups[0].modelExecutionRoleArn"
    assert "modelDataBuckets" in error.problem


def test_a_cross_account_stage_without_model_data_buckets_is_refused() -> None:
    # GIVEN a group that names no model data bucket
    raw = _context()
    del raw["modelGroups"][0]["modelDataBuckets"]
    # WHEN parsed
    error = _refusal(raw)
    # THEN the buckets are asked for
    assert error.path == "greenlight.modelGroups[0].modelDataBuckets"


def test_a_cross_account_stage_refuses_an_adopted_group() -> None:
    # GIVEN an adopted group (its resource policy is not the stack's to set)
    # WHEN parsed
    error = _refusal(_context(adoptExistingGroup=True))
    # THEN the adoption is refused, saying why
    assert error.path == "greenlight.modelGroups[0].adoptExistingGroup"
    assert "resource policy" in error.problem


def test_a_cross_account_stage_refuses_a_key_outside_the_tooling_region() -> None:
    # GIVEN model data encrypted with a key of another region
    other = KEY.replace("us-east-1", "eu-west-1")
    # WHEN parsed
    error = _refusal(_context(modelDataKmsKeyArns=[other]))
    # THEN the key is refused, naming the region it needs
    assert error.path == "greenlight.modelGroups[0].modelDataKmsKeyArns[0]"
    assert "us-east-1" in error.problem


def test_a_cross_account_stage_with_bucket_and_key_parses() -> None:
    # GIVEN model data in a named bucket under a customer managed key of the region
    # WHEN parsed
    config = parse_config(_context(modelDataKmsKeyArns=[KEY]))
    # THEN both travel with the group
    assert config.model_groups[0].model_data_kms_key_arns == (KEY,)


def test_a_remote_stage_is_reached_through_its_target_stacks_roles() -> None:
    # GIVEN production in its own account
    config = parse_config(_context())
    staging, production = config.model_groups[0].stages
    # WHEN the functions and the status command ask how to reach each stage
    # THEN production goes through the target's deployment (or reader) role, staging direct
    assert config.stage_target(production).role_arn == (
        f"arn:aws:iam::{PRODUCTION}:role/greenlight-deployment-us-east-1"
    )
    assert config.stage_target(production, reader=True).role_arn == (
        f"arn:aws:iam::{PRODUCTION}:role/greenlight-status-reader-us-east-1"
    )
    assert config.stage_target(production).region == ""
    assert config.stage_target(staging).to_parameters() == {}
    group = config.model_groups[0]
    assert config.remote_execution_role_arn(group, staging) is None
    assert (config.remote_execution_role_arn(group, production) or "").startswith(
        f"arn:aws:iam::{PRODUCTION}:role/greenlight/greenlight-model-"
    )
