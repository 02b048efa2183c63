"""The functions' one way into a stage's account: ``StageClients`` assumes the stage's
role when it has one, and keeps the function's own credentials when it has none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from accounts_fixtures import put_5xx_alarm, running_as

from pipeline_scripts.emulation.checkpoint import RequestCheckpoint
from pipeline_scripts.emulation.iam import IamCheck, Role
from shared.stage_access import InvalidStageTarget, StageAccessDenied, StageClients, StageTarget

TOOLING = "123456789012"
PRODUCTION = "210987654321"
FUNCTION = "greenlight-bake"
FUNCTION_ROLE_ARN = f"arn:aws:iam::{TOOLING}:role/bake-function-role"
STAGE_ROLE_ARN = f"arn:aws:iam::{PRODUCTION}:role/greenlight-deployment"


def _stage_role(trusted: str) -> Role:
    return Role(
        name="greenlight-deployment",
        arn=STAGE_ROLE_ARN,
        statements=(
            {
                "Effect": "Allow",
                "Action": ["cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"],
                "Resource": "*",
            },
        ),
        trust=({"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"},),
    )


FUNCTION_ROLE = Role(
    name="bake-function-role",
    arn=FUNCTION_ROLE_ARN,
    statements=(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": STAGE_ROLE_ARN},
        {"Effect": "Allow", "Action": "cloudwatch:DescribeAlarms", "Resource": "*"},
    ),
)


@pytest.fixture
def checkpoint() -> Iterator[RequestCheckpoint]:
    with running_as(FUNCTION) as checkpoint:
        yield checkpoint


def _check(checkpoint: RequestCheckpoint, stage_role: Role) -> None:
    checkpoint.add(
        IamCheck.for_functions({FUNCTION: FUNCTION_ROLE}, account=TOOLING, declared=[stage_role])
    )


def test_a_stage_with_a_role_is_read_in_its_account_and_region(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN a production role that trusts the function's role, and an alarm in production
    _check(checkpoint, _stage_role(FUNCTION_ROLE_ARN))
    clients = StageClients(
        StageTarget(role_arn=STAGE_ROLE_ARN, region="eu-west-1"), session_name=FUNCTION
    )
    sts = clients.client("sts")
    # WHEN the function reads alarms through the stage's clients
    identity = sts.get_caller_identity()
    alarms = clients.client("cloudwatch").describe_alarms()["MetricAlarms"]
    # THEN it is the role's session in production, in the stage's region
    assert identity["Arn"] == (
        f"arn:aws:sts::{PRODUCTION}:assumed-role/greenlight-deployment/{FUNCTION}"
    )
    assert sts.meta.region_name == "eu-west-1"
    assert alarms == []


def test_the_role_is_assumed_once_per_stage_clients(checkpoint: RequestCheckpoint) -> None:
    # GIVEN the stage's clients
    _check(checkpoint, _stage_role(FUNCTION_ROLE_ARN))
    clients = StageClients(StageTarget(role_arn=STAGE_ROLE_ARN), session_name=FUNCTION)
    # WHEN two clients are made
    first = clients.client("cloudwatch")
    second = clients.client("sagemaker")
    # THEN both carry the same assumed credentials
    assert (
        first._request_signer._credentials.access_key
        == second._request_signer._credentials.access_key
    )


def test_a_stage_without_a_role_uses_the_functions_own_credentials(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN a stage in the tooling account
    _check(checkpoint, _stage_role(FUNCTION_ROLE_ARN))
    clients = StageClients(StageTarget(), session_name=FUNCTION)
    # WHEN the function asks who it is
    identity = clients.client("sts").get_caller_identity()
    # THEN it is still in the tooling account, unassumed
    assert identity["Account"] == TOOLING
    assert clients.target.account == ""


def test_a_role_that_does_not_trust_the_function_fails_naming_assume_role(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN a production role that trusts another role only
    _check(checkpoint, _stage_role(f"arn:aws:iam::{TOOLING}:role/recorder"))
    clients = StageClients(StageTarget(role_arn=STAGE_ROLE_ARN), session_name=FUNCTION)
    # WHEN the function makes a client
    with pytest.raises(StageAccessDenied) as raised:
        clients.client("cloudwatch")
    # THEN the error names the role, the function, and STS's refusal
    assert raised.value.code == "AccessDenied"
    assert str(raised.value).startswith(
        f"{FUNCTION} could not assume the stage role {STAGE_ROLE_ARN}: AccessDenied: User: "
    )
    assert "not authorized to perform: sts:AssumeRole" in str(raised.value)


def test_the_alarm_exists_only_in_the_account_it_was_made_in(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN an alarm made with production's role, and the tooling account's own view
    _check(checkpoint, _stage_role(FUNCTION_ROLE_ARN))
    production = StageClients(StageTarget(role_arn=STAGE_ROLE_ARN), session_name=FUNCTION)
    put_5xx_alarm(production.client("cloudwatch"), "churn-production-5xx")
    # WHEN each account lists its alarms
    tooling = StageClients(StageTarget(), session_name=FUNCTION).client("cloudwatch")
    there = production.client("cloudwatch").describe_alarms()["MetricAlarms"]
    here = tooling.describe_alarms()["MetricAlarms"]
    # THEN only production has it
    assert [alarm["AlarmName"] for alarm in there] == ["churn-production-5xx"]
    assert here == []


@pytest.mark.parametrize(
    ("target", "session", "field"),
    [
        ({"role_arn": "arn:aws:iam::12345:role/x"}, FUNCTION, "roleArn"),
        ({"role_arn": "greenlight-deployment"}, FUNCTION, "roleArn"),
        ({}, "a", "session name"),
        ({}, "greenlight deploy", "session name"),
    ],
)
def test_a_target_aws_would_refuse_is_refused_naming_the_field(
    target: dict[str, str], session: str, field: str
) -> None:
    # GIVEN a malformed role ARN or session name
    # WHEN the stage's clients are made
    with pytest.raises(InvalidStageTarget) as raised:
        StageClients(StageTarget(**target), session_name=session)
    # THEN the error names the field
    assert raised.value.field_name == field


def test_parameters_round_trip_and_omit_what_is_empty() -> None:
    # GIVEN a target in production and one in the tooling account
    remote = StageTarget(role_arn=STAGE_ROLE_ARN, region="eu-west-1")
    # WHEN they travel as parameters
    # THEN the remote one keeps both fields and the local one carries none
    assert StageTarget.from_parameters(remote.to_parameters()) == remote
    assert StageTarget().to_parameters() == {}
    assert remote.account == PRODUCTION
