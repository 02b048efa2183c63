"""One clock: every time the sandbox shows, in any service, is the sandbox's virtual time.

The story runs in virtual January; the wall clock says otherwise. A timestamp from the
wall clock anywhere — the registry, the pipeline, the endpoints, the alarms, the ledger,
the stack, the functions — would sit months away from everything else, and an approval
compared with it would look stale (docs/aws-behaviour.md, Time).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.sandbox.scenarios import scenario
from pipeline_scripts.sandbox.story import Story
from pipeline_scripts.sandbox.template import load_app
from pipeline_scripts.sandbox.world import Sandbox

pytestmark = pytest.mark.e2e

#: Keys whose values are times written as text or as epoch numbers, not as datetimes.
_TEXT_TIMES = ("at", "time", "Time", "LastModified", "startedAt", "recordedAt")
_EPOCH_MILLIS = ("creationTime", "lastEventTimestamp", "lastIngestionTime")


def _times(value: Any, path: str = "") -> Iterator[tuple[str, datetime]]:
    """Every time in a response: datetimes, ISO 8601 text under time-like keys, and the
    epoch milliseconds CloudWatch Logs uses."""
    if isinstance(value, datetime):
        yield path, value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            if isinstance(item, str) and key.endswith(_TEXT_TIMES) and item[:2] == "20":
                try:
                    parsed = datetime.fromisoformat(item.replace("Z", "+00:00"))
                except ValueError:
                    pass
                else:
                    yield where, parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
                    continue
            if isinstance(item, int) and key in _EPOCH_MILLIS:
                yield where, datetime.fromtimestamp(item / 1000, tz=UTC)
                continue
            yield from _times(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _times(item, f"{path}[{index}]")


def _responses(sandbox: Sandbox) -> Iterator[tuple[str, Any]]:
    """What a person sees in each service after the story, through plain boto3."""
    sagemaker = sandbox.client("sagemaker")
    for group in sandbox.app.model_package_groups:
        yield "ListModelPackages", sagemaker.list_model_packages(ModelPackageGroupName=group)
        for package in sagemaker.list_model_packages(ModelPackageGroupName=group)[
            "ModelPackageSummaryList"
        ]:
            arn = package["ModelPackageArn"]
            yield "DescribeModelPackage", sagemaker.describe_model_package(ModelPackageName=arn)
    yield "ListModelPackageGroups", sagemaker.list_model_package_groups()
    for endpoint in sagemaker.list_endpoints()["Endpoints"]:
        name = endpoint["EndpointName"]
        yield "DescribeEndpoint", sagemaker.describe_endpoint(EndpointName=name)
    yield "ListEndpointConfigs", sagemaker.list_endpoint_configs()
    yield "ListModels", sagemaker.list_models()
    codepipeline = sandbox.client("codepipeline")
    for pipeline in sandbox.app.pipelines:
        yield "GetPipeline", codepipeline.get_pipeline(name=pipeline.name)
        yield (
            "ListPipelineExecutions",
            codepipeline.list_pipeline_executions(pipelineName=pipeline.name),
        )
        yield (
            "ListActionExecutions",
            codepipeline.list_action_executions(pipelineName=pipeline.name),
        )
        yield "GetPipelineState", codepipeline.get_pipeline_state(name=pipeline.name)
    yield "DescribeAlarms", sandbox.client("cloudwatch").describe_alarms()
    dynamodb = sandbox.client("dynamodb")
    for table in sandbox.app.tables:
        yield "DescribeTable", dynamodb.describe_table(TableName=table)
        items = dynamodb.scan(TableName=table)["Items"]
        yield "Scan", [{k: next(iter(v.values())) for k, v in item.items()} for item in items]
    yield "DescribeStacks", sandbox.client("cloudformation").describe_stacks()
    yield "ListFunctions", sandbox.client("lambda").list_functions()
    yield "ListRoles", sandbox.client("iam").list_roles()
    yield "DescribeLogGroups", sandbox.client("logs").describe_log_groups()
    yield "ListBuckets", sandbox.client("s3").list_buckets()


@pytest.fixture(scope="module")
def after_the_story(example_out: Path) -> Iterator[tuple[Sandbox, datetime, datetime]]:
    with Sandbox(load_app(example_out)) as sandbox:
        began = sandbox.clock.now()
        story = Story(sandbox, name="story")
        scenario("story").run(story)
        assert story.finish().passed
        yield sandbox, began, sandbox.clock.now()


def test_every_time_any_service_shows_is_within_the_storys_virtual_time(
    after_the_story: tuple[Sandbox, datetime, datetime],
) -> None:
    # GIVEN the whole story played in virtual time, months before the wall clock
    sandbox, began, ended = after_the_story
    assert ended < datetime.now(UTC)

    # WHEN every service's describe and list answers are read through boto3
    seen: list[tuple[str, datetime]] = []
    outside: list[str] = []
    for operation, response in _responses(sandbox):
        for where, moment in _times(response):
            seen.append((operation + where, moment))
            if not began <= moment <= ended:
                outside.append(f"{operation}{where} = {moment.isoformat()}")

    # THEN each time lies within the story's virtual time range, none from the wall clock
    assert len(seen) > 100, "the scan must reach the services' times"
    services = {where.split(".")[0].split("[")[0] for where, _ in seen}
    assert {"DescribeModelPackage", "ListPipelineExecutions", "DescribeAlarms"} <= services
    assert outside == []
