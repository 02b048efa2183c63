"""Which emulator serves which AWS operation the sandbox takes over from moto."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pipeline_scripts.emulation.accounts import EmulatedAccounts
from pipeline_scripts.emulation.codepipeline import EmulatedCodePipeline
from pipeline_scripts.emulation.jobs import EmulatedJobs
from pipeline_scripts.emulation.service import Operation, ServiceRoutes
from pipeline_scripts.sandbox.engine import PipelineEngine


def route_codepipeline(
    routes: ServiceRoutes,
    codepipeline: EmulatedCodePipeline,
    engine: PipelineEngine,
    jobs: EmulatedJobs,
    *,
    pipelines: Callable[[], Iterable[str]],
    identity: Callable[[], str],
) -> None:
    """Every CodePipeline operation Greenlight calls, served by the emulation; any other
    is refused. ``pipelines`` names what ListPipelines lists; ``identity`` who makes the
    request being served."""
    cp = codepipeline

    def as_caller(operation: Callable[..., dict[str, Any]]) -> Operation:
        return lambda **params: operation(**params, caller=identity())

    implementations: dict[str, Operation] = {
        "GetPipeline": cp.get_pipeline,
        "GetPipelineExecution": cp.get_pipeline_execution,
        "ListPipelineExecutions": cp.list_pipeline_executions,
        "ListActionExecutions": cp.list_action_executions,
        "StartPipelineExecution": as_caller(cp.start_pipeline_execution),
        "StopPipelineExecution": cp.stop_pipeline_execution,
        "RollbackStage": as_caller(cp.rollback_stage),
        "CreatePipeline": cp.create_pipeline,
        "UpdatePipeline": cp.update_pipeline,
        "DisableStageTransition": as_caller(cp.disable_stage_transition),
        "EnableStageTransition": cp.enable_stage_transition,
        "RetryStageExecution": cp.retry_stage_execution,
        "GetPipelineState": engine.get_pipeline_state,
        "ListPipelines": lambda **_params: _list_pipelines(cp, pipelines()),
        "PutApprovalResult": engine.put_approval_result,
        "PutJobSuccessResult": jobs.put_job_success_result,
        "PutJobFailureResult": jobs.put_job_failure_result,
    }
    for operation, implementation in implementations.items():
        routes.route("codepipeline", operation, implementation)
    routes.refuse_unimplemented("codepipeline")


def _list_pipelines(codepipeline: EmulatedCodePipeline, names: Iterable[str]) -> dict[str, Any]:
    pipelines = []
    for name in names:
        record = codepipeline.pipeline_record(name)
        pipelines.append(
            {
                "name": name,
                "version": record.version,
                "pipelineType": record.declaration.get("pipelineType", "V2"),
                "executionMode": record.declaration.get("executionMode", "SUPERSEDED"),
                "created": record.created,
                "updated": record.updated,
            }
        )
    return {"pipelines": pipelines}


def route_sagemaker(routes: ServiceRoutes, accounts: EmulatedAccounts) -> None:
    """The endpoint and alarm calls the emulated SageMaker answers or watches, each in
    the account it is served in: endpoints move on in virtual time whenever someone
    looks at them."""
    routes.route("sagemaker", "UpdateEndpoint", accounts.update_endpoint)
    routes.wrap(
        "sagemaker",
        "CreateEndpoint",
        before=accounts.refuse_existing,
        after=accounts.endpoint_created,
    )
    routes.wrap("cloudwatch", "PutMetricAlarm", after=accounts.alarm_created)
    routes.wrap("cloudwatch", "SetAlarmState", after=accounts.alarm_set_by_hand)
    routes.wrap("cloudwatch", "DescribeAlarms", before=lambda _p: accounts.tick())
    for operation in ("DescribeEndpoint", "ListEndpoints", "DescribeEndpointConfig"):
        routes.wrap("sagemaker", operation, before=lambda _p: accounts.tick())
    routes.wrap("sagemaker-runtime", "InvokeEndpoint", before=accounts.prepare_invocation)
