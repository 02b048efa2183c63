"""How ``greenlight history`` scales: API calls and wall time over many versions and
executions, on moto with the emulated CodePipeline behind moto's endpoint.

The ledger is filled with the records the recorder writes for each execution (started,
each stage started and deployed, ended) and the trigger's outcome for each approval or
redeploy; CodePipeline holds the same executions. The command then runs as a user runs
it, through plain boto3, with a counter on every API call.

Run: ``python -m tests.bench.history_bench`` (``make bench``).
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws
from moto.core.utils import camelcase_to_underscores

from pipeline_scripts import cli
from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import EmulatedCodePipeline
from pipeline_scripts.emulation.service import ServiceRoutes
from shared import contract
from shared.ledger import (
    OUTCOME_STARTED,
    RECORD_DEPLOYED,
    RECORD_EXECUTION_ENDED,
    RECORD_EXECUTION_STARTED,
    RECORD_STAGE_STARTED,
    Outcome,
    PipelineRecord,
)
from tests.stub_engine import StubEngine

REGION = "us-east-1"
GROUP = "bench-group"
STAGES = ("staging", "production")
TABLE = "bench-ledger"
OPERATIONS = (
    "GetPipelineExecution",
    "ListPipelineExecutions",
    "ListActionExecutions",
    "StartPipelineExecution",
)


@dataclass(frozen=True)
class Measure:
    versions: int
    executions: int
    rows: int
    calls: dict[str, int]
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def _declaration() -> dict[str, Any]:
    lambda_type = {"category": "Invoke", "owner": "AWS", "provider": "Lambda", "version": "1"}
    return {
        "name": contract.pipeline_name(GROUP),
        "variables": [
            {"name": name, "defaultValue": "none"} for name in contract.PIPELINE_VARIABLES
        ],
        "stages": [
            {
                "name": contract.SOURCE_STAGE,
                "actions": [
                    {
                        "name": contract.SOURCE_ACTION,
                        "actionTypeId": {
                            "category": "Source",
                            "owner": "AWS",
                            "provider": "S3",
                            "version": "1",
                        },
                    }
                ],
            },
            *(
                {
                    "name": stage,
                    "actions": [
                        {
                            "name": action,
                            "actionTypeId": lambda_type,
                            "configuration": {"FunctionName": f"greenlight-{action.lower()}"},
                            "runOrder": order,
                        }
                        for order, action in enumerate(contract.STAGE_ACTIONS, start=1)
                    ],
                }
                for stage in STAGES
            ),
        ],
    }


@contextlib.contextmanager
def _world(clock: VirtualClock) -> Iterator[EmulatedCodePipeline]:
    codepipeline = EmulatedCodePipeline(clock=clock)
    codepipeline.register_pipeline(_declaration())
    routes = ServiceRoutes()
    with mock_aws():
        for operation in OPERATIONS:
            routes.route(
                "codepipeline",
                operation,
                getattr(codepipeline, camelcase_to_underscores(operation)),
            )
        try:
            yield codepipeline
        finally:
            routes.uninstall()


def _fill(
    codepipeline: EmulatedCodePipeline, clock: VirtualClock, versions: int, executions: int
) -> None:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[
            {"AttributeName": contract.LEDGER_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": contract.LEDGER_SORT_KEY, "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": contract.LEDGER_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": contract.LEDGER_SORT_KEY, "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    arns = [
        sagemaker.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus="Approved",
            InferenceSpecification={
                "Containers": [{"Image": "img", "ModelDataUrl": f"s3://m/{n}/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
        for n in range(versions)
    ]
    items: list[dict[str, Any]] = []
    engine = StubEngine(codepipeline, clock)
    for n in range(executions):
        version = n % versions + 1
        arn = arns[version - 1]
        reason = contract.REASON_APPROVAL if n < versions else contract.REASON_REDEPLOY
        request_id = f"request-{n}"
        approved = clock.now()
        execution_id = codepipeline.start_pipeline_execution(
            name=contract.pipeline_name(GROUP),
            variables=[
                {"name": contract.VAR_MODEL_PACKAGE_ARN, "value": arn},
                {"name": contract.VAR_MODEL_PACKAGE_VERSION, "value": str(version)},
                {"name": contract.VAR_TRIGGER_REASON, "value": reason},
                {"name": contract.VAR_REQUEST_ID, "value": request_id},
            ],
        )["pipelineExecutionId"]
        items.append(
            Outcome(
                group=GROUP,
                event_id=request_id,
                outcome=OUTCOME_STARTED,
                reason="started",
                recorded_at=approved,
                model_package_arn=arn,
                model_package_version=version,
                approval_status="Approved",
                trigger_reason=reason,
                pipeline_execution_id=execution_id,
                approved_by="arn:aws:iam::123456789012:user/reviewer",
                registered_by="arn:aws:iam::123456789012:user/scientist",
                approval_description=f"v{version} reviewed",
                approved_at=approved,
            ).to_item()
        )
        started = clock.now()

        base: dict[str, Any] = {
            "group": GROUP,
            "execution_id": execution_id,
            "trigger_type": "StartPipelineExecution",
            "trigger_reason": reason,
            "request_id": request_id,
            "model_package_arn": arn,
            "model_package_version": version,
            "started_at": started,
        }

        def record(
            kind: str, stage: str | None = None, base: dict[str, Any] = base, **extra: Any
        ) -> None:
            items.append(
                PipelineRecord(
                    event_id=f"{base['execution_id']}-{kind}-{stage}",
                    at=clock.now(),
                    record=kind,
                    stage=stage,
                    recorded_at=clock.now(),
                    **base,
                    **extra,
                ).to_item()
            )
            clock.advance(30)

        record(RECORD_EXECUTION_STARTED)
        for stage in STAGES:
            record(RECORD_STAGE_STARTED, stage)
            record(
                RECORD_DEPLOYED,
                stage,
                endpoint_name=f"bench-{stage}",
                endpoint_config_name=f"bench-{stage}-{execution_id[:8]}",
            )
        engine.run_to_end(execution_id)
        record(RECORD_EXECUTION_ENDED, state="SUCCEEDED")
        clock.advance(600)
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(
            RequestItems={TABLE: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        )


def measure(versions: int, executions: int) -> Measure:
    clock = VirtualClock(datetime(2025, 6, 1, tzinfo=UTC) - timedelta(days=1))
    with _world(clock) as codepipeline:
        _fill(codepipeline, clock, versions, executions)
        calls: dict[str, int] = {}

        def count(model: Any, **_: Any) -> None:
            calls[model.name] = calls.get(model.name, 0) + 1

        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-call", count)
        out = io.StringIO()
        began = time.perf_counter()
        with contextlib.redirect_stdout(out):
            code = cli.main(
                [
                    "history",
                    GROUP,
                    "--stages",
                    ",".join(STAGES),
                    "--ledger-table",
                    TABLE,
                    "--format",
                    "csv",
                    "--region",
                    REGION,
                ]
            )
        seconds = time.perf_counter() - began
        boto3.setup_default_session()
    if code != 0:
        raise RuntimeError(f"greenlight history exited {code}")
    rows = len(out.getvalue().splitlines()) - 1
    return Measure(versions, executions, rows, calls, seconds)


def main() -> None:
    print("greenlight history on moto + emulated CodePipeline (API calls are counted per call)")
    print(
        f"{'versions':>8} {'executions':>10} {'rows':>6} {'calls':>6} {'seconds':>8}  by operation"
    )
    for versions, executions in ((50, 250), (200, 250), (200, 1000)):
        result = measure(versions, executions)
        breakdown = ", ".join(f"{k} {v}" for k, v in sorted(result.calls.items()))
        print(
            f"{result.versions:>8} {result.executions:>10} {result.rows:>6} "
            f"{result.total:>6} {result.seconds:>8.2f}  {breakdown}"
        )


if __name__ == "__main__":
    main()
