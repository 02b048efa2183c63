"""AssumeRole in the sandbox: both the caller's identity-based policy and the target
role's trust policy must allow it, and the credentials it returns act as that role, in
the role's own account."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from pipeline_scripts.emulation.checkpoint import RequestCheckpoint
from pipeline_scripts.emulation.iam import IamCheck, Role, function_access_key

TOOLING = "123456789012"
TARGET = "210987654321"
FUNCTION = "greenlight-deploy"
FUNCTION_ROLE_ARN = f"arn:aws:iam::{TOOLING}:role/deploy-function-role"
TARGET_ROLE_ARN = f"arn:aws:iam::{TARGET}:role/greenlight-deployment"
OTHER_ROLE_ARN = f"arn:aws:iam::{TARGET}:role/someone-else"

FUNCTION_ROLE = Role(
    name="deploy-function-role",
    arn=FUNCTION_ROLE_ARN,
    statements=(
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": [TARGET_ROLE_ARN, OTHER_ROLE_ARN, f"arn:aws:iam::{TARGET}:role/absent"],
        },
    ),
)


def _trusting(principal: Any, **extra: Any) -> tuple[dict[str, Any], ...]:
    return (
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole", **extra},
    )


def _target_role(trust: tuple[dict[str, Any], ...], arn: str = TARGET_ROLE_ARN) -> Role:
    return Role(
        name=arn.rsplit("/", 1)[-1],
        arn=arn,
        statements=(
            {
                "Effect": "Allow",
                "Action": "sagemaker:ListEndpoints",
                "Resource": "*",
            },
        ),
        trust=trust,
    )


@pytest.fixture
def checkpoint() -> Iterator[RequestCheckpoint]:
    checkpoint = RequestCheckpoint()
    with mock_aws():
        checkpoint.install()
        try:
            yield checkpoint
        finally:
            checkpoint.uninstall()


def _check(checkpoint: RequestCheckpoint, *targets: Role, caller: Role = FUNCTION_ROLE) -> None:
    checkpoint.add(IamCheck.for_functions({FUNCTION: caller}, account=TOOLING, declared=targets))


def _client(service: str, key: str, region: str = "us-east-1", **credentials: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=credentials.get("secret", "sandbox"),
        aws_session_token=credentials.get("token", "token"),
    )


def _assume(role_arn: str = TARGET_ROLE_ARN, key: str = "") -> dict[str, str]:
    sts = _client("sts", key or function_access_key(FUNCTION))
    credentials: dict[str, str] = sts.assume_role(RoleArn=role_arn, RoleSessionName=FUNCTION)[
        "Credentials"
    ]
    return credentials


def _as(service: str, credentials: dict[str, str], region: str = "eu-west-1") -> Any:
    return _client(
        service,
        credentials["AccessKeyId"],
        region,
        secret=credentials["SecretAccessKey"],
        token=credentials["SessionToken"],
    )


def _refusal(call: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error: dict[str, str] = raised.value.response["Error"]
    return error


def test_a_trusted_function_assumes_the_role_and_its_calls_land_in_the_roles_account(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN a target role whose trust policy names the function's role by ARN
    _check(checkpoint, _target_role(_trusting(FUNCTION_ROLE_ARN)))
    # WHEN the function assumes it and asks who it is
    credentials = _assume()
    identity = _as("sts", credentials).get_caller_identity()
    # THEN it acts as the role's session, in the target account
    assert identity["Account"] == TARGET
    assert identity["Arn"] == f"arn:aws:sts::{TARGET}:assumed-role/greenlight-deployment/{FUNCTION}"
    assert _as("sagemaker", credentials).list_endpoints()["Endpoints"] == []


def test_a_trust_policy_that_does_not_name_the_caller_refuses_assume_role(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN a target role that trusts another role of the tooling account
    _check(checkpoint, _target_role(_trusting(f"arn:aws:iam::{TOOLING}:role/recorder")))
    # WHEN the function assumes it
    error = _refusal(_assume)
    # THEN STS refuses, naming the session, the action and the role
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: arn:aws:sts::{TOOLING}:assumed-role/deploy-function-role/{FUNCTION} "
        f"is not authorized to perform: sts:AssumeRole on resource: {TARGET_ROLE_ARN} "
        "because no resource-based policy allows the sts:AssumeRole action"
    )


def test_a_trusted_caller_without_the_identity_permission_is_refused(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN a role that trusts the function, whose own policy does not allow AssumeRole
    bare = Role(name="deploy-function-role", arn=FUNCTION_ROLE_ARN, statements=())
    _check(checkpoint, _target_role(_trusting(FUNCTION_ROLE_ARN)), caller=bare)
    # WHEN the function assumes it
    error = _refusal(_assume)
    # THEN the identity-based half refuses it
    assert error["Code"] == "AccessDenied"
    assert "no identity-based policy allows the sts:AssumeRole action" in error["Message"]


def test_a_trust_in_the_callers_account_root_trusts_its_roles(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN a target role that trusts the tooling account's root
    _check(checkpoint, _target_role(_trusting(f"arn:aws:iam::{TOOLING}:root")))
    # WHEN the function (allowed by its own policy) assumes it
    credentials = _assume()
    # THEN it is served
    assert credentials["AccessKeyId"].startswith("ASIA")


def test_a_trust_in_another_account_does_not_trust_the_caller(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN a target role that trusts only its own account
    _check(checkpoint, _target_role(_trusting(TARGET)))
    # WHEN the tooling account's function assumes it
    error = _refusal(_assume)
    # THEN it is refused
    assert "sts:AssumeRole" in error["Message"]


def test_a_role_no_template_declares_cannot_be_assumed(checkpoint: RequestCheckpoint) -> None:
    # GIVEN no role at the ARN the function asks for
    _check(checkpoint, _target_role(_trusting(FUNCTION_ROLE_ARN)))
    # WHEN it assumes it
    error = _refusal(lambda: _assume(f"arn:aws:iam::{TARGET}:role/absent"))
    # THEN it is refused (moto alone would hand out credentials)
    assert error["Code"] == "AccessDenied"
    assert f"on resource: arn:aws:iam::{TARGET}:role/absent" in error["Message"]


def test_a_trust_condition_on_the_principal_arn_is_evaluated(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN a trust in the tooling account's root, on condition of the caller's role ARN
    condition = {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{TOOLING}:role/recorder*"}}
    root = f"arn:aws:iam::{TOOLING}:root"
    _check(checkpoint, _target_role(_trusting(root, Condition=condition)))
    # WHEN the deploy function assumes it
    error = _refusal(_assume)
    # THEN the condition does not hold for it
    assert "no resource-based policy allows" in error["Message"]


def test_a_trust_condition_the_sandbox_cannot_evaluate_refuses(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN a trust that requires an external id
    condition = {"StringEquals": {"sts:ExternalId": "secret"}}
    _check(checkpoint, _target_role(_trusting(FUNCTION_ROLE_ARN, Condition=condition)))
    # WHEN the function assumes it
    error = _refusal(_assume)
    # THEN it is refused, naming the condition key
    assert "sts:externalid" in error["Message"]
    assert "trust policy" in error["Message"]


def test_an_explicit_deny_in_the_trust_policy_wins(checkpoint: RequestCheckpoint) -> None:
    # GIVEN a trust that allows the account root and denies the deploy function's role
    trust = (
        *_trusting(f"arn:aws:iam::{TOOLING}:root"),
        {
            "Effect": "Deny",
            "Principal": {"AWS": FUNCTION_ROLE_ARN},
            "Action": "sts:AssumeRole",
        },
    )
    _check(checkpoint, _target_role(trust))
    # WHEN the function assumes it
    error = _refusal(_assume)
    # THEN the deny wins
    assert "with an explicit deny in a resource-based policy" in error["Message"]


def test_assumed_credentials_act_only_as_the_roles_policies_allow(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN the function's session of the target role (which may only list endpoints)
    _check(checkpoint, _target_role(_trusting(FUNCTION_ROLE_ARN)))
    credentials = _assume()
    # WHEN it deletes an endpoint in the target account
    sagemaker = _as("sagemaker", credentials)
    error = _refusal(lambda: sagemaker.delete_endpoint(EndpointName="churn-production"))
    # THEN the role's policies refuse it, naming the session in the target account
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"].startswith(
        f"User: arn:aws:sts::{TARGET}:assumed-role/greenlight-deployment/{FUNCTION} "
        "is not authorized to perform: sagemaker:DeleteEndpoint on resource: "
        f"arn:aws:sagemaker:eu-west-1:{TARGET}:endpoint/churn-production"
    )


def test_a_person_needs_the_trust_policy_too(checkpoint: RequestCheckpoint) -> None:
    # GIVEN a target role trusting only the deploy function's role
    _check(checkpoint, _target_role(_trusting(FUNCTION_ROLE_ARN)))
    # WHEN the sandbox operator assumes it
    error = _refusal(lambda: _assume(key="AKIASANDBOXOPERATOR1"))
    # THEN it is refused, naming the operator
    assert error["Message"].startswith(
        f"User: arn:aws:iam::{TOOLING}:user/AKIASANDBOXOPERATOR1 is not authorized"
    )


PACKAGE = f"arn:aws:sagemaker:us-east-1:{TOOLING}:model-package/churn/3"
GROUP_POLICY = (
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{TARGET}:root"},
        "Action": ["sagemaker:DescribeModelPackage", "sagemaker:CreateModel"],
        "Resource": [
            f"arn:aws:sagemaker:us-east-1:{TOOLING}:model-package-group/churn",
            f"arn:aws:sagemaker:us-east-1:{TOOLING}:model-package/churn/*",
        ],
    },
)


def _deployer() -> Role:
    return Role(
        name="greenlight-deployment",
        arn=TARGET_ROLE_ARN,
        statements=(
            {
                "Effect": "Allow",
                "Action": ["sagemaker:CreateModel", "sagemaker:DescribeModelPackage"],
                "Resource": "*",
            },
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
        ),
        trust=_trusting(FUNCTION_ROLE_ARN),
    )


def _create_model_from_the_tooling_package(credentials: dict[str, str]) -> Any:
    return _as("sagemaker", credentials, region="us-east-1").create_model(
        ModelName="churn-production-v3-abcdef",
        Containers=[{"ModelPackageName": PACKAGE}],
        ExecutionRoleArn=f"arn:aws:iam::{TARGET}:role/model",
    )


def test_a_model_from_another_accounts_package_needs_the_groups_resource_policy(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN a deployment role allowed to read packages, and no policy on the tooling group
    _check(checkpoint, _deployer())
    credentials = _assume()
    # WHEN it creates a model from a version of the tooling account's group
    error = _refusal(lambda: _create_model_from_the_tooling_package(credentials))
    # THEN the package's account refuses: no resource-based policy lets the target read it
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"].endswith(
        f"on resource: {PACKAGE} because no resource-based policy allows the "
        "sagemaker:DescribeModelPackage action"
    )


def test_the_groups_resource_policy_lets_the_target_account_build_the_model(
    checkpoint: RequestCheckpoint,
) -> None:
    # GIVEN the group's resource policy naming the target account
    check = IamCheck.for_functions(
        {FUNCTION: FUNCTION_ROLE}, account=TOOLING, declared=[_deployer()]
    )
    check.declare_resource_policy(GROUP_POLICY)
    checkpoint.add(check)
    credentials = _assume()
    # WHEN the target creates a model from the package
    created = _create_model_from_the_tooling_package(credentials)
    # THEN it is served, in the target account
    assert f":{TARGET}:model/churn-production-v3-abcdef" in created["ModelArn"]
