"""The CLI's promise: every error is one line on stderr with a documented exit code,
never a traceback — including when AWS or the sandbox server cannot be reached."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from pipeline_scripts.cli import main
from pipeline_scripts.errors import (
    EXIT_NO_CREDENTIALS,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    aws_message,
)

#: A loopback port nothing listens on.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def unreachable_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", NOWHERE)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")


def test_greenlight_with_no_arguments_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN greenlight is run bare
    code = main([])

    # THEN it shows every command and exits 0
    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert "usage: greenlight" in out
    for command in ("approve", "register", "status", "history", "rollback", "sandbox"):
        assert command in out


def test_greenlight_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("greenlight ")


@pytest.mark.usefixtures("unreachable_sandbox")
@pytest.mark.parametrize(
    "argv",
    [
        ["status", "house-price-linear-learner"],
        ["status", "house-price-linear-learner", "--ledger-table", "nosuch"],
        ["history"],
        ["redeploy", "house-price-linear-learner", "1", "--reason", "r"],
        [
            "rollback",
            "house-price-linear-learner",
            "--stage",
            "production",
            "--to-version",
            "1",
            "--reason",
            "r",
        ],
        ["sandbox", "approve-stage"],
        ["approve", "house-price-linear-learner", "1", "--description", "ok"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_an_unreachable_endpoint_is_one_line_with_the_unreachable_exit_code(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN AWS_ENDPOINT_URL names a sandbox server that is not running
    # WHEN a command needs AWS
    code = main(argv)

    # THEN it says so in one line, names the address and says how to start the sandbox
    err = capsys.readouterr().err.strip()
    assert code == EXIT_UNREACHABLE, err
    assert err.count("\n") == 0, err
    assert NOWHERE in err
    assert "greenlight sandbox serve" in err


def test_no_region_is_a_usage_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN no region anywhere
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")

    # WHEN a command needs a region
    code = main(["sandbox", "approve-stage"])

    # THEN it names what to set
    err = capsys.readouterr().err.strip()
    assert code == EXIT_USAGE
    assert err == "greenlight: no AWS region: pass --region or set AWS_REGION"


def test_no_credentials_against_a_sandbox_says_what_the_sandbox_takes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN AWS_ENDPOINT_URL already points at a sandbox, and there are no credentials
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", NOWHERE)

    # WHEN a command calls AWS
    code = main(["approve", "house-price-linear-learner", "1", "--description", "ok"])

    # THEN the hint is about the keys, not about setting AWS_ENDPOINT_URL again
    err = capsys.readouterr().err
    assert code == EXIT_NO_CREDENTIALS
    assert "no AWS credentials found" in err
    assert "point AWS_ENDPOINT_URL" not in err
    assert "AWS_ACCESS_KEY_ID" in err


def test_an_aws_message_that_repeats_botocores_prefix_is_said_once() -> None:
    # GIVEN an error whose message repeats botocore's own prefix, as some services do
    error = ClientError(
        {
            "Error": {
                "Code": "ValidationException",
                "Message": "An error ocurred (ValidationException) when calling the "
                "CreateModelPackage operation: Model Package Group does not exist.",
            }
        },
        "CreateModelPackage",
    )

    # WHEN it is put in words
    # THEN the code and the message each appear once
    assert aws_message(error) == "ValidationException: Model Package Group does not exist."


@pytest.mark.usefixtures("unreachable_sandbox")
@pytest.mark.parametrize("command", ["redeploy", "rollback"])
@pytest.mark.parametrize(
    "topic",
    [
        "notanarn",
        "arn:aws:sqs:us-east-1:123456789012:greenlight",
        "arn:aws:sns:us-east-1:1234:greenlight",
        "arn:aws:sns:us-east-1:123456789012:",
    ],
)
def test_a_topic_arn_that_is_not_an_sns_topic_arn_is_refused_before_any_call(
    command: str, topic: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an operator's --topic-arn that is not an SNS topic ARN (AWS is not reachable,
    # so any call made would fail differently)
    where = ["1"] if command == "redeploy" else ["--stage", "production"]
    argv = [command, "house-price-linear-learner", *where, "--topic-arn", topic]
    argv += ["--stages", "staging,production", "--ledger-table", "t", "--region", "us-east-1"]
    argv += ["--reason", "drill"]

    # WHEN the command runs
    code = main(argv)

    # THEN it is refused in one line naming the flag, with the usage exit code
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert err == (
        f"greenlight: --topic-arn: expected an SNS topic ARN "
        f"(arn:aws:sns:REGION:ACCOUNT:NAME), got {topic!r}\n"
    )
