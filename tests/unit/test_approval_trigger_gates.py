"""The approval trigger's governance gates and its environment, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from approval_trigger.claims import request_token
from shared import contract
from shared.environment import ConfigError
from shared.gates import Gates, check_gates
from shared.group_registry import GroupEntry, RegistryError
from shared.settings import TriggerConfig

ALICE = {"IamIdentity": {"Arn": "arn:aws:sts::123456789012:assumed-role/DataScientist/alice"}}
BOB = {"IamIdentity": {"Arn": "arn:aws:sts::123456789012:assumed-role/Reviewer/bob"}}
REPORTS = {
    "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://r/q"}},
    "Bias": {"PostTrainingReport": {"ContentType": "application/json", "S3Uri": "s3://r/b"}},
}
ALL_GATES = Gates(required_reports=("ModelQuality", "Bias"), separation_of_duties=True)


def _package(**fields: Any) -> dict[str, Any]:
    return {"ModelMetrics": REPORTS, "CreatedBy": ALICE, "LastModifiedBy": BOB, **fields}


def test_a_package_with_its_reports_and_two_people_passes_every_gate() -> None:
    assert check_gates(_package(), ALL_GATES) is None


def test_a_report_section_without_an_s3_uri_counts_as_missing() -> None:
    metrics = {**REPORTS, "Bias": {"Report": {"ContentType": "application/json"}}}
    assert check_gates(_package(ModelMetrics=metrics), ALL_GATES) == (
        "required report(s) missing from ModelMetrics: Bias"
    )


def test_the_same_iam_identity_registering_and_approving_is_refused() -> None:
    assert check_gates(_package(LastModifiedBy=ALICE), ALL_GATES) == (
        "separation of duties: arn:aws:sts::123456789012:assumed-role/DataScientist/alice "
        "both registered and approved this version"
    )


def test_the_same_studio_profile_is_refused_even_with_different_iam_sessions() -> None:
    registrant = {**ALICE, "DomainId": "d-1", "UserProfileName": "alice"}
    approver = {**BOB, "DomainId": "d-1", "UserProfileName": "alice"}
    reason = check_gates(_package(CreatedBy=registrant, LastModifiedBy=approver), ALL_GATES)
    assert reason is not None
    assert "both registered and approved" in reason


def test_an_unknown_approver_is_refused() -> None:
    assert check_gates(_package(LastModifiedBy={}), ALL_GATES) == (
        "separation of duties: the approver is unknown (no LastModifiedBy)"
    )


def test_identities_with_nothing_to_compare_are_refused() -> None:
    profile_only = {"DomainId": "d-1", "UserProfileName": "bob"}
    reason = check_gates(_package(LastModifiedBy=profile_only), ALL_GATES)
    assert reason == (
        "separation of duties: cannot compare approver d-1/bob with registrant "
        "arn:aws:sts::123456789012:assumed-role/DataScientist/alice"
    )


def test_gates_off_pass_a_package_without_reports_or_identities() -> None:
    assert check_gates({}, Gates()) is None


def test_an_unknown_report_name_is_refused_when_the_gates_are_built() -> None:
    with pytest.raises(ValueError, match=r"unknown report\(s\) Fairness"):
        Gates(required_reports=("Fairness",))


ENVIRON = {
    contract.ENV_LEDGER_TABLE: "ledger",
    contract.ENV_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:greenlight",
}


def _entry(**gates: Any) -> GroupEntry:
    return GroupEntry(
        group="house-price-linear-learner",
        pipeline_name="greenlight-house-price-linear-learner",
        stages=("staging", "production"),
        gates=gates or {"requiredReports": ["Bias"], "separationOfDuties": True},
    )


def test_the_environment_and_the_registry_entry_are_read_into_a_typed_config() -> None:
    config = TriggerConfig.for_group(ENVIRON, _entry())
    assert (config.ledger_table, config.group) == ("ledger", "house-price-linear-learner")
    assert config.stages == ("staging", "production")
    assert config.gates == Gates(required_reports=("Bias",), separation_of_duties=True)


def test_a_missing_variable_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError) as raised:
        TriggerConfig.for_group({contract.ENV_TOPIC_ARN: "t"}, _entry())
    assert str(raised.value) == f"environment {contract.ENV_LEDGER_TABLE}: missing"


@pytest.mark.parametrize(
    ("gates", "problem"),
    [
        ({"separationOfDuty": True}, "gates: unknown key(s) separationOfDuty"),
        ({"separationOfDuties": "yes"}, "gates: separationOfDuties: expected true or false"),
        ({"requiredReports": "Bias"}, "gates: requiredReports: expected a list of names"),
        ({"requiredReports": ["Fairness"]}, "gates.requiredReports: unknown report(s) Fairness"),
    ],
)
def test_bad_gates_in_the_registry_entry_are_refused_naming_the_parameter(
    gates: dict[str, Any], problem: str
) -> None:
    with pytest.raises(RegistryError) as raised:
        TriggerConfig.for_group(ENVIRON, _entry(**gates))
    assert str(raised.value).startswith(
        "group registry /greenlight/groups/house-price-linear-learner: " + problem
    )


def test_the_request_token_is_stable_per_act_and_valid_for_codepipeline() -> None:
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/house-price-linear-learner/4"
    token = request_token(arn, 2)
    assert token == request_token(arn, 2)
    assert token != request_token(arn, 3)
    assert token.startswith("greenlight-4-2-")
    assert len(token) <= 128
    assert all(ch.isalnum() or ch == "-" for ch in token)
