"""``greenlight register`` and ``register()`` against moto: each option and each refusal."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from pipeline_scripts.cli import main
from pipeline_scripts.errors import (
    EXIT_NOT_FOUND,
    EXIT_REFUSED,
    EXIT_USAGE,
    NotFound,
    Refused,
    UsageError,
)
from pipeline_scripts.images import SDK_LOOKUP_MODULES
from pipeline_scripts.register import Registration, register
from shared.config import Gates

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
GROUP = "house-price-linear-learner"
MODEL_DATA = "s3://greenlight-example-models/house-price/model.tar.gz"
IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
XGBOOST_1_7_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


@pytest.fixture
def sagemaker() -> Iterator[SageMakerClient]:
    with mock_aws():
        yield boto3.client("sagemaker", region_name=REGION)


@pytest.fixture
def group(sagemaker: SageMakerClient) -> str:
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    return GROUP


@pytest.fixture
def hide_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the SageMaker Python SDK unimportable, as if it were not installed."""
    for name in ("sagemaker", *SDK_LOOKUP_MODULES):
        monkeypatch.setitem(sys.modules, name, None)


def _config(tmp_path: Path, *, separation_of_duties: bool) -> Path:
    """A copy of the repository's cdk.json with GROUP's separation-of-duties gate set."""
    document = json.loads((REPO_ROOT / "cdk.json").read_text(encoding="utf-8"))
    groups = document["context"]["greenlight"]["modelGroups"]
    (entry,) = [g for g in groups if g["name"] == GROUP]
    entry.setdefault("gates", {})["separationOfDuties"] = separation_of_duties
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _versions(sagemaker: SageMakerClient, group: str = GROUP) -> list[dict[str, Any]]:
    summaries = sagemaker.list_model_packages(ModelPackageGroupName=group)
    return [dict(s) for s in summaries["ModelPackageSummaryList"]]


def _groups(sagemaker: SageMakerClient) -> list[str]:
    listed = sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
    return [g["ModelPackageGroupName"] for g in listed]


def _only_package(sagemaker: SageMakerClient) -> dict[str, Any]:
    (summary,) = _versions(sagemaker)
    return dict(sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"]))


def _cli(*extra: str, group: str = GROUP) -> list[str]:
    return ["register", group, "--model-data", MODEL_DATA, *extra]


# --- the Python function -----------------------------------------------------------


def test_register_creates_a_pending_version_with_the_image_artifact_and_csv_types(
    sagemaker: SageMakerClient, group: str
) -> None:
    # GIVEN an existing group
    # WHEN a version is registered with an explicit image
    result = register(group, model_data=MODEL_DATA, image=IMAGE, sagemaker=sagemaker)

    # THEN SageMaker holds it, pending approval, with the lesson's inference specification
    package = _only_package(sagemaker)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["InferenceSpecification"] == {
        "Containers": [{"Image": IMAGE, "ModelDataUrl": MODEL_DATA}],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
    }
    assert result == Registration(
        model_package_group_name=GROUP,
        model_package_arn=package["ModelPackageArn"],
        model_package_version=1,
        model_approval_status="PendingManualApproval",
        image=IMAGE,
        group_created=False,
    )


def test_register_returns_the_next_version_number_for_a_second_registration(
    sagemaker: SageMakerClient, group: str
) -> None:
    # GIVEN a group that already has one version
    register(group, model_data=MODEL_DATA, image=IMAGE, sagemaker=sagemaker)

    # WHEN another is registered
    second = register(group, model_data=MODEL_DATA, image=IMAGE, sagemaker=sagemaker)

    # THEN it is version 2 and its ARN ends with it
    assert second.model_package_version == 2
    assert second.model_package_arn.endswith(f"model-package/{GROUP}/2")


def test_register_with_framework_looks_the_image_up_for_the_clients_region(
    sagemaker: SageMakerClient, group: str
) -> None:
    # GIVEN the SDK is installed and the client is in us-east-1
    # WHEN xgboost 1.7-1 is named instead of an image
    result = register(
        group,
        model_data=MODEL_DATA,
        framework="xgboost",
        framework_version="1.7-1",
        sagemaker=sagemaker,
    )

    # THEN the registered container uses the SDK's image for that region and version
    container = _only_package(sagemaker)["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == XGBOOST_1_7_IMAGE
    assert result.image == XGBOOST_1_7_IMAGE


def test_register_records_content_and_response_types_given(
    sagemaker: SageMakerClient, group: str
) -> None:
    # WHEN a version accepts JSON lines and CSV and answers JSON
    register(
        group,
        model_data=MODEL_DATA,
        image=IMAGE,
        content_types=["application/jsonlines", "text/csv"],
        response_types=["application/json"],
        sagemaker=sagemaker,
    )

    # THEN the inference specification lists exactly those
    spec = _only_package(sagemaker)["InferenceSpecification"]
    assert spec["SupportedContentTypes"] == ["application/jsonlines", "text/csv"]
    assert spec["SupportedResponseMIMETypes"] == ["application/json"]


def test_register_puts_reports_into_model_metrics_in_sagemakers_shapes(
    sagemaker: SageMakerClient, group: str
) -> None:
    # WHEN the three reports are given
    register(
        group,
        model_data=MODEL_DATA,
        image=IMAGE,
        model_quality="s3://reports/house-price/quality.json",
        bias_report="s3://reports/house-price/bias.json",
        explainability_report="s3://reports/house-price/explainability.json",
        sagemaker=sagemaker,
    )

    # THEN ModelMetrics holds each under the member the gates read
    metrics = _only_package(sagemaker)["ModelMetrics"]
    assert metrics == {
        "ModelQuality": {
            "Statistics": {
                "ContentType": "application/json",
                "S3Uri": "s3://reports/house-price/quality.json",
            }
        },
        "Bias": {
            "Report": {
                "ContentType": "application/json",
                "S3Uri": "s3://reports/house-price/bias.json",
            }
        },
        "Explainability": {
            "Report": {
                "ContentType": "application/json",
                "S3Uri": "s3://reports/house-price/explainability.json",
            }
        },
    }


def test_register_without_reports_sends_no_model_metrics(
    sagemaker: SageMakerClient, group: str
) -> None:
    # WHEN no report is given
    register(group, model_data=MODEL_DATA, image=IMAGE, sagemaker=sagemaker)

    # THEN the package has no ModelMetrics and no customer metadata
    package = _only_package(sagemaker)
    assert "ModelMetrics" not in package
    assert "CustomerMetadataProperties" not in package


def test_register_stores_metadata_as_customer_metadata_properties(
    sagemaker: SageMakerClient, group: str
) -> None:
    # WHEN metadata is given
    register(
        group,
        model_data=MODEL_DATA,
        image=IMAGE,
        metadata={"git-commit": "4f2a9c1", "dataset": "s3://data/house-prices/2024-06"},
        sagemaker=sagemaker,
    )

    # THEN it is the package's CustomerMetadataProperties
    assert _only_package(sagemaker)["CustomerMetadataProperties"] == {
        "git-commit": "4f2a9c1",
        "dataset": "s3://data/house-prices/2024-06",
    }


def test_register_stores_the_description(sagemaker: SageMakerClient, group: str) -> None:
    # WHEN a description is given
    register(
        group,
        model_data=MODEL_DATA,
        image=IMAGE,
        description="retrained on June data",
        sagemaker=sagemaker,
    )

    # THEN it is the version's ModelPackageDescription
    assert _only_package(sagemaker)["ModelPackageDescription"] == "retrained on June data"


def test_register_with_create_group_creates_a_missing_group_then_the_version(
    sagemaker: SageMakerClient,
) -> None:
    # GIVEN no group
    # WHEN registering with create_group
    result = register(
        GROUP, model_data=MODEL_DATA, image=IMAGE, create_group=True, sagemaker=sagemaker
    )

    # THEN the group exists, holds version 1, and the result says the group was created
    assert _groups(sagemaker) == [GROUP]
    assert [v["ModelPackageVersion"] for v in _versions(sagemaker)] == [1]
    assert result.group_created is True


def test_register_with_create_group_reuses_an_existing_group(
    sagemaker: SageMakerClient, group: str
) -> None:
    # GIVEN the group exists
    # WHEN registering with create_group
    result = register(
        group, model_data=MODEL_DATA, image=IMAGE, create_group=True, sagemaker=sagemaker
    )

    # THEN it is used as it is
    assert result.group_created is False
    assert _groups(sagemaker) == [GROUP]


def test_register_with_approve_approves_in_a_second_call_with_the_description(
    sagemaker: SageMakerClient, group: str
) -> None:
    # GIVEN gates that do not separate duties
    # WHEN registering with approve
    result = register(
        group,
        model_data=MODEL_DATA,
        image=IMAGE,
        approve=True,
        approval_description="offline metrics beat the live version",
        gates=Gates(separation_of_duties=False),
        sagemaker=sagemaker,
    )

    # THEN the version is Approved with the reviewer's description
    package = _only_package(sagemaker)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["ApprovalDescription"] == "offline metrics beat the live version"
    assert result.model_approval_status == "Approved"


def test_register_honours_aws_endpoint_url_when_it_makes_its_own_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a SageMaker endpoint that only answers through AWS_ENDPOINT_URL
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        remote = boto3.client("sagemaker", region_name=REGION, endpoint_url=endpoint)
        remote.create_model_package_group(ModelPackageGroupName=GROUP)

        # WHEN registering without passing a client
        result = register(GROUP, model_data=MODEL_DATA, image=IMAGE, region=REGION)

        # THEN the version exists on that endpoint
        listed = remote.list_model_packages(ModelPackageGroupName=GROUP)
        assert [s["ModelPackageArn"] for s in listed["ModelPackageSummaryList"]] == [
            result.model_package_arn
        ]
    finally:
        server.stop()


# --- refusals: nothing is created ---------------------------------------------------


def test_register_refuses_a_group_name_over_63_characters_counting_its_hyphens(
    sagemaker: SageMakerClient,
) -> None:
    # GIVEN a group name of 65 characters, most of them hyphens between letters (the
    # rule cdk.json's group names follow too)
    long_name = "a" + "-b" * 32

    # WHEN it is registered into, even with create_group
    with pytest.raises(UsageError) as raised:
        register(
            long_name, model_data=MODEL_DATA, image=IMAGE, create_group=True, sagemaker=sagemaker
        )

    # THEN it is refused as no model package group name, and nothing was created
    assert "is not a model package group name: 1 to 63 letters" in str(raised.value)
    assert _groups(sagemaker) == []


@pytest.mark.parametrize(
    ("model_data", "expected"),
    [
        ("https://bucket/model.tar.gz", "--model-data 'https://bucket/model.tar.gz' is not an S3"),
        ("s3:/bucket/model.tar.gz", "--model-data 's3:/bucket/model.tar.gz' is not an S3 URI"),
        ("s3://Bad_Bucket/model.tar.gz", "'Bad_Bucket' is not an S3 bucket name"),
        ("s3://bucket/", "--model-data 's3://bucket/' names no object"),
        ("s3://bucket/model.pkl", "must be a gzip-compressed tar archive"),
    ],
)
def test_register_refuses_a_malformed_model_data_uri_before_creating_anything(
    sagemaker: SageMakerClient, model_data: str, expected: str
) -> None:
    # WHEN the model artifact URI is malformed, even with create_group
    with pytest.raises(UsageError) as raised:
        register(GROUP, model_data=model_data, image=IMAGE, create_group=True, sagemaker=sagemaker)

    # THEN the message names the field and no group was created
    assert expected in str(raised.value)
    assert _groups(sagemaker) == []


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("model_quality", "--model-quality 'https://reports/q.json' is not an S3 URI"),
        ("bias_report", "--bias-report 'https://reports/q.json' is not an S3 URI"),
        (
            "explainability_report",
            "--explainability-report 'https://reports/q.json' is not an S3 URI",
        ),
    ],
)
def test_register_refuses_report_uris_that_are_not_s3(
    sagemaker: SageMakerClient, group: str, option: str, expected: str
) -> None:
    # WHEN a report is given as an HTTPS URL
    reports: dict[str, Any] = {option: "https://reports/q.json"}
    with pytest.raises(UsageError) as raised:
        register(
            group,
            model_data=MODEL_DATA,
            image=IMAGE,
            sagemaker=sagemaker,
            **reports,
        )

    # THEN the message names the option and no version exists
    assert expected in str(raised.value)
    assert _versions(sagemaker) == []


def test_register_refuses_a_missing_group_without_create_group(
    sagemaker: SageMakerClient,
) -> None:
    # WHEN registering into a group that does not exist
    with pytest.raises(NotFound) as raised:
        register(GROUP, model_data=MODEL_DATA, image=IMAGE, sagemaker=sagemaker)

    # THEN it names the group, suggests create_group, and creates nothing
    assert str(raised.value) == (
        f"model package group {GROUP!r} not found in us-east-1; pass --create-group to create it"
    )
    assert _groups(sagemaker) == []


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"framework": "no-such-algorithm"},
            "unknown --framework 'no-such-algorithm'",
        ),
        (
            {"framework": "xgboost", "framework_version": "0.1"},
            "unknown --framework-version 0.1 for xgboost (Supported xgboost version(s): ",
        ),
    ],
)
def test_register_refuses_an_unknown_framework_or_version(
    sagemaker: SageMakerClient, group: str, kwargs: dict[str, Any], expected: str
) -> None:
    # WHEN the framework or its version is not in the SDK's tables
    with pytest.raises(UsageError) as raised:
        register(group, model_data=MODEL_DATA, sagemaker=sagemaker, **kwargs)

    # THEN the message names it and no version exists
    assert expected in str(raised.value)
    assert _versions(sagemaker) == []


def test_register_refuses_a_region_the_framework_has_no_image_in() -> None:
    # GIVEN a client for a real region that the pinned SDK's linear-learner table lacks
    with mock_aws():
        client = boto3.client("sagemaker", region_name="mx-central-1")

        # WHEN looking up linear-learner there
        with pytest.raises(UsageError) as raised:
            register(
                GROUP,
                model_data=MODEL_DATA,
                framework="linear-learner",
                create_group=True,
                sagemaker=client,
            )

        # THEN the message names the region and nothing was created
        assert "unknown --region 'mx-central-1': no linear-learner image there" in str(raised.value)
        assert client.list_model_package_groups()["ModelPackageGroupSummaryList"] == []


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (
            {f"key-{n}": "v" for n in range(51)},
            "--metadata has 51 keys; SageMaker allows at most 50",
        ),
        ({"k" * 129: "v"}, "is 129 characters; SageMaker allows at most 128"),
        ({"owner": "v" * 257}, "--metadata value of 'owner' is 257 characters; SageMaker allows"),
        ({"owner": ""}, "--metadata value of 'owner' is empty"),
        ({"owner": "a,b"}, "--metadata value of 'owner' has characters SageMaker refuses: ','"),
    ],
)
def test_register_refuses_metadata_beyond_sagemakers_limits(
    sagemaker: SageMakerClient, group: str, metadata: dict[str, str], expected: str
) -> None:
    # WHEN the metadata breaks a CustomerMetadataProperties limit
    with pytest.raises(UsageError) as raised:
        register(group, model_data=MODEL_DATA, image=IMAGE, metadata=metadata, sagemaker=sagemaker)

    # THEN the message says which limit and no version exists
    assert expected in str(raised.value)
    assert _versions(sagemaker) == []


def test_register_accepts_metadata_exactly_at_sagemakers_limits(
    sagemaker: SageMakerClient, group: str
) -> None:
    # GIVEN 50 keys, one of 128 characters with a value of 256
    metadata = {f"key-{n}": "v" for n in range(49)} | {"k" * 128: "v" * 256}

    # WHEN registering with it
    register(group, model_data=MODEL_DATA, image=IMAGE, metadata=metadata, sagemaker=sagemaker)

    # THEN all of it is stored
    assert _only_package(sagemaker)["CustomerMetadataProperties"] == metadata


def test_register_refuses_approve_when_the_gates_separate_duties(
    sagemaker: SageMakerClient, group: str
) -> None:
    # WHEN approving at registration for a group whose gates separate duties
    with pytest.raises(Refused) as raised:
        register(
            group,
            model_data=MODEL_DATA,
            image=IMAGE,
            approve=True,
            approval_description="looks good",
            gates=Gates(separation_of_duties=True),
            sagemaker=sagemaker,
        )

    # THEN it says why, and no version exists
    assert str(raised.value) == (
        f"--approve refused: model package group {GROUP!r} requires separation of duties "
        "(gates.separationOfDuties), so whoever registers a version cannot approve it; "
        f"a different reviewer runs `greenlight approve {GROUP} VERSION`"
    )
    assert _versions(sagemaker) == []


def test_register_refuses_approve_without_an_approval_description(
    sagemaker: SageMakerClient, group: str
) -> None:
    # WHEN approving with no description
    with pytest.raises(UsageError, match="--approve needs --approval-description TEXT"):
        register(group, model_data=MODEL_DATA, image=IMAGE, approve=True, sagemaker=sagemaker)

    # THEN nothing was registered
    assert _versions(sagemaker) == []


def test_register_refuses_both_an_image_and_a_framework(
    sagemaker: SageMakerClient, group: str
) -> None:
    # WHEN both image sources are given
    with pytest.raises(UsageError, match="give exactly one of --image URI or --framework NAME"):
        register(
            group,
            model_data=MODEL_DATA,
            image=IMAGE,
            framework="linear-learner",
            sagemaker=sagemaker,
        )

    # THEN nothing was registered
    assert _versions(sagemaker) == []


def test_register_refuses_an_image_uri_with_spaces(sagemaker: SageMakerClient, group: str) -> None:
    # WHEN the image is not a URI
    with pytest.raises(UsageError, match="--image 'linear learner' is not an image URI"):
        register(group, model_data=MODEL_DATA, image="linear learner", sagemaker=sagemaker)

    # THEN nothing was registered
    assert _versions(sagemaker) == []


def test_register_refuses_a_content_type_that_is_not_a_mime_type(
    sagemaker: SageMakerClient, group: str
) -> None:
    # WHEN the content type has no subtype
    with pytest.raises(UsageError, match="--content-type 'csv' is not a MIME type"):
        register(
            group, model_data=MODEL_DATA, image=IMAGE, content_types=["csv"], sagemaker=sagemaker
        )

    # THEN nothing was registered
    assert _versions(sagemaker) == []


def test_register_translates_a_sagemaker_refusal_into_refused_with_its_code(
    sagemaker: SageMakerClient, group: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN SageMaker refuses CreateModelPackage (moto never hits the version quota)
    from botocore.exceptions import ClientError

    def refuse(**_: object) -> None:
        raise ClientError(
            {"Error": {"Code": "ResourceLimitExceeded", "Message": "too many versions"}},
            "CreateModelPackage",
        )

    monkeypatch.setattr(sagemaker, "create_model_package", refuse)

    # WHEN registering
    with pytest.raises(Refused) as raised:
        register(group, model_data=MODEL_DATA, image=IMAGE, sagemaker=sagemaker)

    # THEN the error is one line with SageMaker's code and message
    assert str(raised.value) == (
        f"cannot register a version in {GROUP}: ResourceLimitExceeded: too many versions"
    )


# --- without the SDK ----------------------------------------------------------------


def test_register_with_framework_without_the_sdk_says_how_to_install_it(
    sagemaker: SageMakerClient, group: str, hide_sdk: None
) -> None:
    # GIVEN the SDK cannot be imported
    # WHEN a framework is named
    with pytest.raises(UsageError) as raised:
        register(group, model_data=MODEL_DATA, framework="linear-learner", sagemaker=sagemaker)

    # THEN it says how to install it, or to pass an image, and creates nothing
    assert str(raised.value) == (
        "--framework linear-learner needs the SageMaker Python SDK to look up its image: "
        "install it with pip install 'greenlight[sdk]', or pass the image URI with --image"
    )
    assert _versions(sagemaker) == []


def test_register_with_an_image_works_without_the_sdk(
    sagemaker: SageMakerClient, group: str, hide_sdk: None
) -> None:
    # GIVEN the SDK cannot be imported
    # WHEN the image is given explicitly
    result = register(group, model_data=MODEL_DATA, image=IMAGE, sagemaker=sagemaker)

    # THEN the version is registered with it
    assert _only_package(sagemaker)["InferenceSpecification"]["Containers"][0]["Image"] == IMAGE
    assert result.model_package_version == 1


# --- the command line ---------------------------------------------------------------


def test_cli_register_prints_the_arn_and_version(
    sagemaker: SageMakerClient, group: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN registering from the command line
    code = main(_cli("--image", IMAGE))

    # THEN it exits 0 and prints the ARN and the version
    out = capsys.readouterr().out
    assert code == 0
    arn = _only_package(sagemaker)["ModelPackageArn"]
    assert f"ModelPackageArn       {arn}\n" in out
    assert "ModelPackageVersion   1\n" in out
    assert "ModelApprovalStatus   PendingManualApproval\n" in out


def test_cli_register_json_prints_the_result_as_json(
    sagemaker: SageMakerClient, group: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN registering with --json and --framework
    code = main(_cli("--framework", "linear-learner", "--json"))

    # THEN stdout is exactly one JSON document describing the version
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {
        "ModelPackageGroupName": GROUP,
        "ModelPackageArn": _only_package(sagemaker)["ModelPackageArn"],
        "ModelPackageVersion": 1,
        "ModelApprovalStatus": "PendingManualApproval",
        "Image": IMAGE,
        "GroupCreated": False,
    }


def test_cli_register_passes_every_option_through(
    sagemaker: SageMakerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN every registration option is given on the command line
    code = main(
        _cli(
            "--image",
            IMAGE,
            "--content-type",
            "application/json",
            "--response-type",
            "application/json",
            "--description",
            "June retrain",
            "--create-group",
            "--model-quality",
            "s3://reports/q.json",
            "--bias-report",
            "s3://reports/b.json",
            "--explainability-report",
            "s3://reports/e.json",
            "--metadata",
            "git-commit=4f2a9c1",
            "url=s3://data/x=y",
        )
    )

    # THEN the package holds each of them
    assert code == 0, capsys.readouterr().err
    package = _only_package(sagemaker)
    assert package["InferenceSpecification"]["SupportedContentTypes"] == ["application/json"]
    assert package["InferenceSpecification"]["SupportedResponseMIMETypes"] == ["application/json"]
    assert package["ModelPackageDescription"] == "June retrain"
    assert package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == "s3://reports/q.json"
    assert package["ModelMetrics"]["Bias"]["Report"]["S3Uri"] == "s3://reports/b.json"
    assert package["ModelMetrics"]["Explainability"]["Report"]["S3Uri"] == "s3://reports/e.json"
    assert package["CustomerMetadataProperties"] == {
        "git-commit": "4f2a9c1",
        "url": "s3://data/x=y",
    }


def test_cli_register_refuses_metadata_that_is_not_key_value(
    sagemaker: SageMakerClient, group: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN a metadata item has no '='
    code = main(_cli("--image", IMAGE, "--metadata", "owner"))

    # THEN it exits with the usage code, names the item, and registers nothing
    assert code == EXIT_USAGE
    assert capsys.readouterr().err == "greenlight: --metadata 'owner': expected KEY=VALUE\n"
    assert _versions(sagemaker) == []


def test_cli_register_refuses_a_duplicate_metadata_key(
    sagemaker: SageMakerClient, group: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN a metadata key is given twice
    code = main(_cli("--image", IMAGE, "--metadata", "owner=a", "owner=b"))

    # THEN it exits with the usage code and registers nothing
    assert code == EXIT_USAGE
    assert capsys.readouterr().err == "greenlight: --metadata key 'owner' is given twice\n"
    assert _versions(sagemaker) == []


def test_cli_register_exits_not_found_for_a_missing_group(
    sagemaker: SageMakerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the group does not exist
    code = main(_cli("--image", IMAGE))

    # THEN one line on stderr and the not-found code
    assert code == EXIT_NOT_FOUND
    assert capsys.readouterr().err == (
        f"greenlight: model package group {GROUP!r} not found in us-east-1; "
        "pass --create-group to create it\n"
    )


def test_cli_register_exits_usage_for_a_malformed_s3_uri(
    sagemaker: SageMakerClient, group: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the model data is not an S3 URI
    code = main(["register", GROUP, "--model-data", "model.tar.gz", "--image", IMAGE])

    # THEN one line on stderr and the usage code
    assert code == EXIT_USAGE
    assert capsys.readouterr().err == (
        "greenlight: --model-data 'model.tar.gz' is not an S3 URI: expected s3://BUCKET/KEY\n"
    )


def test_cli_register_requires_an_image_or_a_framework(
    sagemaker: SageMakerClient, group: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN neither --image nor --framework is given
    with pytest.raises(SystemExit) as exited:
        main(_cli())

    # THEN argparse exits with the usage code naming both options
    assert exited.value.code == EXIT_USAGE
    assert "one of the arguments --image --framework is required" in capsys.readouterr().err


def test_cli_register_approve_reads_the_gates_from_config_and_refuses(
    sagemaker: SageMakerClient, group: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a cdk.json whose group separates duties
    config = _config(tmp_path, separation_of_duties=True)

    # WHEN registering with --approve
    code = main(
        _cli(
            "--image",
            IMAGE,
            "--approve",
            "--approval-description",
            "ok",
            "--config",
            str(config),
        )
    )

    # THEN it exits refused, says why, and nothing was registered
    assert code == EXIT_REFUSED
    err = capsys.readouterr().err
    assert "requires separation of duties (gates.separationOfDuties)" in err
    assert _versions(sagemaker) == []


def test_cli_register_approve_approves_when_the_config_allows_it(
    sagemaker: SageMakerClient, group: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a cdk.json whose group does not separate duties
    config = _config(tmp_path, separation_of_duties=False)

    # WHEN registering with --approve
    code = main(
        _cli(
            "--image",
            IMAGE,
            "--approve",
            "--approval-description",
            "offline metrics beat the live version",
            "--config",
            str(config),
            "--json",
        )
    )

    # THEN the version is Approved with that description
    assert code == 0
    assert json.loads(capsys.readouterr().out)["ModelApprovalStatus"] == "Approved"
    package = _only_package(sagemaker)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["ApprovalDescription"] == "offline metrics beat the live version"


def test_cli_register_approve_with_a_missing_config_names_the_file(
    sagemaker: SageMakerClient, group: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN --approve points at a config that does not exist
    missing = tmp_path / "nope.json"
    code = main(
        _cli(
            "--image", IMAGE, "--approve", "--approval-description", "ok", "--config", str(missing)
        )
    )

    # THEN it exits with the usage code naming the file, and registers nothing
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("greenlight: --approve checks the group's gates in the Greenlight config")
    assert str(missing) in err
    assert _versions(sagemaker) == []


def test_cli_register_framework_without_the_sdk_exits_usage_with_the_install_hint(
    sagemaker: SageMakerClient, group: str, hide_sdk: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the SDK cannot be imported
    # WHEN --framework is used
    code = main(_cli("--framework", "linear-learner"))

    # THEN one line with the install command and the usage code
    assert code == EXIT_USAGE
    assert "install it with pip install 'greenlight[sdk]'" in capsys.readouterr().err
    assert _versions(sagemaker) == []


@pytest.mark.parametrize(
    "image",
    [
        "notanimage",
        "linear-learner:1",
        "382416733822.dkr.ecr.us-east-1.amazonaws.com/",
        "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:bad tag",
        "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner@sha256:abc",
    ],
)
def test_register_refuses_an_image_that_is_not_an_image_uri(
    sagemaker: SageMakerClient, group: str, image: str
) -> None:
    # GIVEN an existing group
    # WHEN the image is not REGISTRY/REPOSITORY[:TAG|@DIGEST]
    with pytest.raises(UsageError) as raised:
        register(group, model_data=MODEL_DATA, image=image, sagemaker=sagemaker)

    # THEN the refusal names the option and the value, and nothing was registered
    assert str(raised.value).startswith(f"--image {image!r} is not an image URI")
    assert (
        sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"] == []
    )


@pytest.mark.parametrize(
    "image",
    [IMAGE, XGBOOST_1_7_IMAGE, "localhost:5000/house-price/model@sha256:" + "a" * 64],
)
def test_register_accepts_image_uris_with_a_tag_or_a_digest(
    sagemaker: SageMakerClient, group: str, image: str
) -> None:
    result = register(group, model_data=MODEL_DATA, image=image, sagemaker=sagemaker)
    assert result.image == image


def test_register_create_group_warns_that_no_pipeline_watches_the_new_group(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN no group yet
    with mock_aws():
        # WHEN the CLI registers a version with --create-group
        code = main(
            [
                "register",
                "brand-new-model",
                "--create-group",
                "--model-data",
                MODEL_DATA,
                "--image",
                IMAGE,
                "--region",
                "us-east-1",
            ]
        )

    # THEN it registers, and warns on stderr that approving will deploy nothing yet
    err = capsys.readouterr().err
    assert code == 0
    assert "warning: created model package group brand-new-model" in err
    assert "deploys nothing" in err
    assert "Platform team" in err
