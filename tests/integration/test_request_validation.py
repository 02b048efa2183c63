"""Request validation: a request that breaks its service model's constraints is refused
on the server side, as AWS refuses it, whatever the client checked (here: nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from pipeline_scripts.emulation.checkpoint import RequestCheckpoint
from pipeline_scripts.emulation.java_regex import UnsupportedPattern, java_pattern
from pipeline_scripts.emulation.validation import validate_request

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/house-prices/1"
METADATA_PATTERN = r"([\p{L}\p{Z}\p{N}_.:\/=+\-@]*)${1,256}"

#: Every service the sandbox's functions, CLI and emulation call.
SANDBOX_SERVICES = (
    "sagemaker",
    "sagemaker-runtime",
    "codepipeline",
    "dynamodb",
    "cloudwatch",
    "sns",
    "sqs",
    "s3",
    "events",
    "sts",
    "lambda",
    "iam",
    "logs",
    "cloudformation",
    "kms",
)


@pytest.fixture
def validated() -> Iterator[None]:
    checkpoint = RequestCheckpoint()
    checkpoint.add(validate_request)
    with mock_aws():
        checkpoint.install()
        try:
            yield
        finally:
            checkpoint.uninstall()


def _unchecked(service: str) -> Any:
    """A plain boto3 client that validates nothing before it sends."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name="us-east-1",
        config=Config(parameter_validation=False),
    )


def _refusal(call: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error: dict[str, str] = raised.value.response["Error"]
    return error


def test_a_metadata_value_outside_the_pattern_is_refused_naming_its_path(
    validated: None,
) -> None:
    # GIVEN a write-back whose value holds "(", which the value pattern does not allow
    sagemaker = _unchecked("sagemaker")

    # WHEN it is sent without client-side validation
    error = _refusal(
        lambda: sagemaker.update_model_package(
            ModelPackageArn=ARN, CustomerMetadataProperties={"gate": "report(s) missing"}
        )
    )

    # THEN SageMaker's validation error names the value, its path and the pattern
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        "1 validation error detected: Value 'report(s) missing' at "
        "'customerMetadataProperties.gate' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {METADATA_PATTERN}"
    )


def test_a_metadata_value_longer_than_its_maximum_is_refused(validated: None) -> None:
    # GIVEN a metadata value of 300 allowed characters (the maximum is 256)
    sagemaker = _unchecked("sagemaker")
    value = "a" * 300

    # WHEN it is written
    error = _refusal(
        lambda: sagemaker.update_model_package(
            ModelPackageArn=ARN, CustomerMetadataProperties={"note": value}
        )
    )

    # THEN the maximum length is the one constraint it fails
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        f"1 validation error detected: Value '{value}' at 'customerMetadataProperties.note' "
        "failed to satisfy constraint: Member must have length less than or equal to 256"
    )


def test_a_pipeline_variable_longer_than_1000_characters_is_refused(validated: None) -> None:
    # GIVEN a StartPipelineExecution whose variable value is 1001 characters
    codepipeline = _unchecked("codepipeline")
    value = "v" * 1001

    # WHEN it is sent
    error = _refusal(
        lambda: codepipeline.start_pipeline_execution(
            name="greenlight", variables=[{"name": "MODEL_PACKAGE_ARN", "value": value}]
        )
    )

    # THEN the list member is named as AWS names it, counted from 1
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        f"1 validation error detected: Value '{value}' at 'variables.1.member.value' "
        "failed to satisfy constraint: Member must have length less than or equal to 1000"
    )


def test_a_value_outside_its_enum_is_refused_listing_the_allowed_values(
    validated: None,
) -> None:
    # GIVEN an approval status SageMaker does not know
    sagemaker = _unchecked("sagemaker")

    # WHEN it is sent
    error = _refusal(
        lambda: sagemaker.update_model_package(ModelPackageArn=ARN, ModelApprovalStatus="Okay")
    )

    # THEN the enum's values are listed
    assert error["Message"] == (
        "1 validation error detected: Value 'Okay' at 'modelApprovalStatus' failed to "
        "satisfy constraint: Member must satisfy enum value set: "
        "[Approved, Rejected, PendingManualApproval]"
    )


def test_a_number_outside_its_range_is_refused(validated: None) -> None:
    # GIVEN a ListModelPackages page size above its maximum of 100
    sagemaker = _unchecked("sagemaker")

    # WHEN it is sent
    error = _refusal(lambda: sagemaker.list_model_packages(MaxResults=101))

    # THEN the maximum value is named
    assert error["Message"] == (
        "1 validation error detected: Value '101' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 100"
    )


def test_a_missing_required_member_of_a_nested_structure_is_refused(validated: None) -> None:
    # GIVEN a model life cycle without its required StageStatus
    sagemaker = _unchecked("sagemaker")

    # WHEN it is written
    error = _refusal(
        lambda: sagemaker.update_model_package(
            ModelPackageArn=ARN, ModelLifeCycle={"Stage": "staging"}
        )
    )

    # THEN the nested member is named, as null
    assert error["Message"] == (
        "1 validation error detected: Value null at 'modelLifeCycle.stageStatus' failed to "
        "satisfy constraint: Member must not be null"
    )


def test_every_violation_of_one_request_is_counted_in_one_message(validated: None) -> None:
    # GIVEN an alarm query breaking two constraints (a 0-character prefix, 101 records)
    cloudwatch = _unchecked("cloudwatch")

    # WHEN it is sent to a query-compatible service
    error = _refusal(lambda: cloudwatch.describe_alarms(AlarmNamePrefix="", MaxRecords=101))

    # THEN both are listed, with that service's own code
    assert error["Code"] == "ValidationError"
    assert error["Message"].startswith("2 validation errors detected: Value '' at ")
    assert "'maxRecords' failed to satisfy constraint" in error["Message"]


def test_a_valid_request_is_served(validated: None) -> None:
    # GIVEN a table and a well-formed write
    dynamodb = _unchecked("dynamodb")
    dynamodb.create_table(
        TableName="ledger",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    # WHEN it is written and read back
    dynamodb.put_item(TableName="ledger", Item={"pk": {"S": "a"}})

    # THEN the checks let both through
    assert dynamodb.get_item(TableName="ledger", Key={"pk": {"S": "a"}})["Item"] == {
        "pk": {"S": "a"}
    }


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        # AWS anchors every pattern: a value matching only a prefix fails.
        ("[a-z]+", "abc1", False),
        (METADATA_PATTERN, "Straße 9: ok=yes", True),
        (METADATA_PATTERN, "semi;colon", False),
        # Java's POSIX classes are ASCII only.
        (r"[\p{Alnum}]+", "Straße", False),
        (r"[\p{Print}]*", "plain text", True),
        # Java's \w is ASCII only; its "." stops at any line terminator.
        (r"\w+", "é", False),
        (".{0,10}", "a\rb", False),
        (r"[\s\S]+", "any\nthing é", True),
        (r"arn:\b(aws)\b:x", "arn:aws:x", True),
        (r"a\bé", "aé", True),
        # A UTF-16 surrogate pair range means the code points beyond U+FFFF.
        (r"[\u0020-\uD7FF\uD800\uDC00-\uDBFF\uDFFF]*", "emoji 😀", True),
    ],
)
def test_a_pattern_is_read_as_java_reads_it(pattern: str, value: str, matches: bool) -> None:
    # GIVEN a pattern as the service model carries it
    # WHEN a value is matched against it
    # THEN it matches as java.util.regex's String.matches would
    assert bool(java_pattern(pattern).fullmatch(value)) is matches


def test_a_pattern_python_cannot_read_as_java_fails_loudly() -> None:
    # GIVEN Java quoting, which the regex package does not understand
    # WHEN it is compiled
    # THEN it is refused by name, never skipped
    with pytest.raises(UnsupportedPattern, match=r"\\Q"):
        java_pattern(r"\Qa.b\E")


@pytest.mark.parametrize("service", SANDBOX_SERVICES)
def test_every_pattern_of_the_sandbox_services_compiles(service: str) -> None:
    # GIVEN every shape of a service the sandbox uses
    model = botocore.session.get_session().get_service_model(service)
    patterns = {
        model.shape_for(name).metadata["pattern"]
        for name in model.shape_names
        if "pattern" in model.shape_for(name).metadata
    }

    # WHEN each pattern is compiled, THEN none raises
    for pattern in patterns:
        java_pattern(pattern)
    assert service == "sqs" or patterns
