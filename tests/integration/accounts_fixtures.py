"""moto with the request checkpoint, as a function's code sees it, and clients acting in
another account: for the suites that test stages in other accounts."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from pipeline_scripts.emulation.checkpoint import RequestCheckpoint
from pipeline_scripts.emulation.iam import function_access_key


@contextmanager
def running_as(function: str) -> Iterator[RequestCheckpoint]:
    """moto with the checkpoint installed, and the process's credentials and name those
    Lambda gives ``function`` (moto restores the environment it found when it ends)."""
    checkpoint = RequestCheckpoint()
    with mock_aws():
        os.environ["AWS_ACCESS_KEY_ID"] = function_access_key(function)
        os.environ["AWS_SECRET_ACCESS_KEY"] = "sandbox"
        os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
        os.environ["AWS_LAMBDA_FUNCTION_NAME"] = function
        checkpoint.install()
        try:
            yield checkpoint
        finally:
            checkpoint.uninstall()
            os.environ.pop("AWS_LAMBDA_FUNCTION_NAME", None)


def assumed_client(role_arn: str, service: str, *, region: str = "us-east-1") -> Any:
    """A client acting as a session of ``role_arn`` (moto files it in the role's account)."""
    sts = boto3.client("sts", region_name=region)
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="setup")["Credentials"]
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def put_5xx_alarm(cloudwatch: Any, name: str) -> None:
    """A stage's 5XX alarm, made with ``cloudwatch`` (in whichever account it acts)."""
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="Invocation5XXErrors",
        Namespace="AWS/SageMaker",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.05,
        ComparisonOperator="GreaterThanThreshold",
    )


PRODUCTION = "222222222222"


def production_elsewhere(tmp_path: Path) -> Path:
    """The example cdk.json with production in PRODUCTION, written under ``tmp_path``."""
    cdk_json = json.loads(Path("cdk.json").read_text(encoding="utf-8"))
    settings = cdk_json["context"]["greenlight"]
    settings.update(toolingAccount="123456789012", toolingRegion="us-east-1")
    settings["modelGroups"][0]["stages"][-1]["account"] = PRODUCTION
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps(cdk_json), encoding="utf-8")
    return path
