"""``greenlight approve`` / ``greenlight reject`` against moto, through the CLI entry point."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends
from moto.server import ThreadedMotoServer

from pipeline_scripts.cli import main
from pipeline_scripts.errors import EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_USAGE

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

pytestmark = pytest.mark.integration

GROUP = "house-price-linear-learner"
REGION = "us-east-1"


@pytest.fixture
def sagemaker() -> Iterator[SageMakerClient]:
    with mock_aws():
        yield boto3.client("sagemaker", region_name=REGION)


def _register(sagemaker: SageMakerClient, status: str, group: str = GROUP) -> str:
    """Create one version in ``group`` (creating the group on first use); returns its ARN."""
    existing = [
        g["ModelPackageGroupName"]
        for g in sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
    ]
    if group not in existing:
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus=status,  # type: ignore[arg-type]
        InferenceSpecification={
            "Containers": [
                {
                    "Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
                    "ModelDataUrl": "s3://greenlight-example-models/house-price/model.tar.gz",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    return arn


def _describe(sagemaker: SageMakerClient, arn: str) -> dict[str, Any]:
    return dict(sagemaker.describe_model_package(ModelPackageName=arn))


def test_approve_sets_a_pending_version_to_approved_with_the_description(
    sagemaker: SageMakerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN version 1 waiting for review
    arn = _register(sagemaker, "PendingManualApproval")

    # WHEN the reviewer approves it
    code = main(["approve", GROUP, "1", "--description", "MAE within budget; bias report ok"])

    # THEN the registry says Approved with the reviewer's description, and the CLI says so
    package = _describe(sagemaker, arn)
    assert code == 0
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["ApprovalDescription"] == "MAE within budget; bias report ok"
    assert capsys.readouterr().out == (f"{GROUP}/1: PendingManualApproval -> Approved ({arn})\n")


def test_reject_sets_a_pending_version_to_rejected(
    sagemaker: SageMakerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN version 1 waiting for review
    arn = _register(sagemaker, "PendingManualApproval")

    # WHEN the reviewer rejects it
    code = main(["reject", GROUP, "1", "--description", "fails the fairness review"])

    # THEN it is Rejected with that description
    package = _describe(sagemaker, arn)
    assert code == 0
    assert package["ModelApprovalStatus"] == "Rejected"
    assert package["ApprovalDescription"] == "fails the fairness review"
    assert "PendingManualApproval -> Rejected" in capsys.readouterr().out


def test_reject_turns_an_approved_version_into_rejected(sagemaker: SageMakerClient) -> None:
    # GIVEN an approved version
    arn = _register(sagemaker, "Approved")

    # WHEN it is rejected after the fact
    code = main(["reject", GROUP, "1", "--description", "drift found in production"])

    # THEN the documented Approved -> Rejected transition happened
    assert code == 0
    assert _describe(sagemaker, arn)["ModelApprovalStatus"] == "Rejected"


def test_approve_turns_a_rejected_version_back_into_approved(sagemaker: SageMakerClient) -> None:
    # GIVEN a rejected version
    arn = _register(sagemaker, "Rejected")

    # WHEN the reviewer changes their mind
    code = main(["approve", GROUP, "1", "--description", "false alarm, data fixed"])

    # THEN the documented Rejected -> Approved transition happened
    assert code == 0
    package = _describe(sagemaker, arn)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["ApprovalDescription"] == "false alarm, data fixed"


def test_approving_an_already_approved_version_changes_nothing_and_says_so(
    sagemaker: SageMakerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN version 1 approved with a description
    arn = _register(sagemaker, "PendingManualApproval")
    assert main(["approve", GROUP, "1", "--description", "first look: good"]) == 0
    capsys.readouterr()

    # WHEN someone approves it again with another description
    code = main(["approve", GROUP, "1", "--description", "second look"])

    # THEN it succeeds as a no-op: the first description stays, and the output says why
    assert code == 0
    assert _describe(sagemaker, arn)["ApprovalDescription"] == "first look: good"
    assert capsys.readouterr().out == f"{GROUP}/1 is already Approved; nothing changed\n"


def test_rejecting_an_already_rejected_version_changes_nothing_and_says_so(
    sagemaker: SageMakerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a rejected version
    _register(sagemaker, "Rejected")

    # WHEN it is rejected again
    code = main(["reject", GROUP, "1", "--description", "still bad"])

    # THEN nothing changes and the output says so
    assert code == 0
    assert capsys.readouterr().out == f"{GROUP}/1 is already Rejected; nothing changed\n"


def test_approve_acts_on_the_named_version_only(sagemaker: SageMakerClient) -> None:
    # GIVEN three pending versions
    arns = [_register(sagemaker, "PendingManualApproval") for _ in range(3)]

    # WHEN version 2 is approved
    assert main(["approve", GROUP, "2", "--description", "v2 wins"]) == 0

    # THEN only version 2 changed
    statuses = [_describe(sagemaker, arn)["ModelApprovalStatus"] for arn in arns]
    assert statuses == ["PendingManualApproval", "Approved", "PendingManualApproval"]


def test_approve_finds_a_version_beyond_the_first_page_of_the_listing(
    sagemaker: SageMakerClient,
) -> None:
    # GIVEN more versions than one ListModelPackages page holds (moto pages by 100)
    arns = [_register(sagemaker, "PendingManualApproval") for _ in range(105)]

    # WHEN the oldest version is approved (listed last, newest first)
    code = main(["approve", GROUP, "1", "--description", "the original"])

    # THEN it is found and approved
    assert code == 0
    assert _describe(sagemaker, arns[0])["ModelApprovalStatus"] == "Approved"


def test_approve_of_an_unknown_group_prints_one_line_and_exits_not_found(
    sagemaker: SageMakerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a registry with one group
    _register(sagemaker, "PendingManualApproval")

    # WHEN a group that does not exist is named
    code = main(["approve", "no-such-group", "1", "--description", "x"])

    # THEN one line names the group, with the not-found exit code and no traceback
    captured = capsys.readouterr()
    assert code == EXIT_NOT_FOUND
    assert captured.err == "greenlight: model package group 'no-such-group' not found\n"
    assert captured.out == ""


def test_reject_of_an_unknown_version_prints_one_line_and_exits_not_found(
    sagemaker: SageMakerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a group with versions 1 and 2
    _register(sagemaker, "PendingManualApproval")
    _register(sagemaker, "PendingManualApproval")

    # WHEN version 7 is rejected
    code = main(["reject", GROUP, "7", "--description", "x"])

    # THEN the message names the group and the missing version
    assert code == EXIT_NOT_FOUND
    assert capsys.readouterr().err == (
        f"greenlight: model package group '{GROUP}' has no version 7\n"
    )


def test_approve_refuses_a_package_that_is_not_completed(
    sagemaker: SageMakerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a version whose package failed to be created (moto's API cannot produce this
    # state, so it is set on moto's backend)
    arn = _register(sagemaker, "PendingManualApproval")
    backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]
    backend.describe_model_package(arn).model_package_status = "Failed"

    # WHEN it is approved
    code = main(["approve", GROUP, "1", "--description", "ship it"])

    # THEN it is refused with the reason, and the registry is unchanged
    assert code == EXIT_REFUSED
    assert capsys.readouterr().err == (
        f"greenlight: {GROUP}/1 cannot be approved: its ModelPackageStatus is Failed, "
        "not Completed\n"
    )
    assert _describe(sagemaker, arn)["ModelApprovalStatus"] == "PendingManualApproval"


@pytest.mark.parametrize("description", ["", "   "])
def test_an_empty_description_is_a_usage_error(
    sagemaker: SageMakerClient, capsys: pytest.CaptureFixture[str], description: str
) -> None:
    # GIVEN a pending version
    arn = _register(sagemaker, "PendingManualApproval")

    # WHEN it is approved with no real description
    code = main(["approve", GROUP, "1", "--description", description])

    # THEN the usage exit code and a message naming the flag; nothing changed
    assert code == EXIT_USAGE
    assert capsys.readouterr().err == "greenlight: --description must not be empty\n"
    assert _describe(sagemaker, arn)["ModelApprovalStatus"] == "PendingManualApproval"


def test_a_description_longer_than_sagemaker_accepts_is_a_usage_error(
    sagemaker: SageMakerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a pending version
    _register(sagemaker, "PendingManualApproval")

    # WHEN the description exceeds ApprovalDescription's 1024 characters
    code = main(["approve", GROUP, "1", "--description", "x" * 1025])

    # THEN it is refused before any update, naming the limit
    assert code == EXIT_USAGE
    assert capsys.readouterr().err == (
        "greenlight: --description is 1025 characters; SageMaker accepts at most 1024\n"
    )


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("two", "version must be a whole number, got 'two'"),
        ("0", "version must be 1 or more, got 0"),
    ],
)
def test_a_bad_version_argument_exits_with_the_usage_code(
    capsys: pytest.CaptureFixture[str], version: str, message: str
) -> None:
    # GIVEN / WHEN a version that is not a positive whole number
    with pytest.raises(SystemExit) as exit_info:
        main(["approve", GROUP, version, "--description", "x"])

    # THEN argparse exits with the usage code and explains the argument
    assert exit_info.value.code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_a_missing_description_exits_with_the_usage_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN / WHEN reject is called without --description
    with pytest.raises(SystemExit) as exit_info:
        main(["reject", GROUP, "1"])

    # THEN the usage code, naming the required flag
    assert exit_info.value.code == EXIT_USAGE
    assert "--description" in capsys.readouterr().err


def test_region_flag_selects_the_registry_of_that_region(
    sagemaker: SageMakerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the group exists in eu-west-1 only
    eu = boto3.client("sagemaker", region_name="eu-west-1")
    arn = _register(eu, "PendingManualApproval")

    # WHEN approving without and then with --region eu-west-1
    without = main(["approve", GROUP, "1", "--description", "ok"])
    with_region = main(["approve", GROUP, "1", "--description", "ok", "--region", "eu-west-1"])

    # THEN the default region does not know the group; the named region is updated
    assert without == EXIT_NOT_FOUND
    assert with_region == 0
    assert _describe(eu, arn)["ModelApprovalStatus"] == "Approved"


def test_approve_works_against_a_server_named_by_aws_endpoint_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a moto server on a free local port holding a pending version
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client("sagemaker", region_name=REGION, endpoint_url=endpoint)
        arn = _register(client, "PendingManualApproval")
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)

        # WHEN the CLI approves it with only the environment pointing at the server
        code = main(["approve", GROUP, "1", "--description", "approved on the sandbox"])

        # THEN the server's registry holds the approval
        assert code == 0
        assert _describe(client, arn)["ModelApprovalStatus"] == "Approved"
    finally:
        server.stop()
