"""An in-memory CodePipeline V2 with the calls Greenlight uses and moto lacks.

What real CodePipeline does
---------------------------
- ``StartPipelineExecution`` creates an execution (``executionType`` STANDARD, trigger
  StartPipelineExecution) with the given pipeline variables, each variable falling back
  to its declared default; an undeclared or missing variable is a ValidationException.
  A ``clientRequestToken`` used again returns the execution it started the first time.
- Executions are ``InProgress``, then ``Succeeded``, ``Failed``, ``Stopped`` (after
  ``Stopping``), ``Superseded`` or ``Cancelled``. Each stage runs its actions by
  ``runOrder``; a stage succeeds when all its actions succeed.
- ``GetPipelineExecution`` returns variables, trigger, executionMode, executionType and,
  for a rollback, ``rollbackMetadata.rollbackTargetPipelineExecutionId``.
  ``ListPipelineExecutions`` returns summaries newest first, without variables, paged
  with ``nextToken``. ``ListActionExecutions`` returns action executions (newest first,
  filterable by ``pipelineExecutionId``) with their status, summary and output variables.
- ``StopPipelineExecution`` works on an InProgress or Stopping execution
  (PipelineExecutionNotStoppableException otherwise). Without ``abandon`` the execution
  is ``Stopping`` until its running actions finish (a second such stop is a
  DuplicatedStopRequestException); ``abandon=True``, even while Stopping, abandons the
  running actions and stops it at once.
- ``RollbackStage`` (and a stage's ``OnFailure: ROLLBACK``) starts a new execution of
  ``executionType`` ROLLBACK that runs only that stage, with the variables and artifacts
  of the target execution, which must have succeeded in that stage, must not be a
  ROLLBACK execution and must have started on the current pipeline structure version
  (UnableToRollbackStageException otherwise; ``codepipeline_control``). The first
  (source) stage cannot roll back. While the stage is running, RollbackStage is a
  ConflictException.

What is emulated here
---------------------
The state model and the read APIs above, with the real error codes. Nothing runs by
itself: the sandbox's pipeline engine (``sandbox.engine``, the one driver of a
pipeline's order, also in the test worlds) moves executions forward with
``begin_action`` / ``finish_action`` / ``finish_execution`` (``codepipeline_progress``).
Timestamps come from an injected clock. CreatePipeline, UpdatePipeline (structure
versions), stage transitions and RetryStageExecution are in ``codepipeline_control``.
Not emulated: artifacts, stage conditions, execution modes other than recording the
declared one. Each behaviour's AWS page is in ``docs/aws-behaviour.md`` (CodePipeline).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pipeline_scripts.emulation.codepipeline_control import check_rollback_target
from pipeline_scripts.emulation.codepipeline_model import (
    ABANDONED,
    ACTION_DONE,
    CANCELLED,
    EXECUTION_DONE,
    FAILED,
    IN_PROGRESS,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    SUPERSEDED,
    ActionExecution,
    Pipeline,
    PipelineExecution,
    StageExecution,
    action_detail,
    client_error,
    execution_fields,
    execution_summary,
    page_of,
    resolve_variables,
    stage_status,
)
from pipeline_scripts.emulation.codepipeline_progress import ExecutionProgress

__all__ = [
    "ABANDONED",
    "ACTION_DONE",
    "CANCELLED",
    "EXECUTION_DONE",
    "FAILED",
    "IN_PROGRESS",
    "STOPPED",
    "STOPPING",
    "SUCCEEDED",
    "SUPERSEDED",
    "ActionExecution",
    "EmulatedCodePipeline",
    "Pipeline",
    "PipelineExecution",
    "StageExecution",
    "client_error",
]


class Paginator:
    """``client.get_paginator(name).paginate(**kwargs)`` over a nextToken list call."""

    def __init__(self, call: Callable[..., dict[str, Any]]) -> None:
        self._call = call

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self._call(**kwargs, **({"nextToken": token} if token else {}))
            yield page
            token = page.get("nextToken")
            if not token:
                return


class EmulatedCodePipeline(ExecutionProgress):
    """The CodePipeline client calls Greenlight makes, with the boto3 names and shapes."""

    # --- read APIs ----------------------------------------------------------------

    def get_pipeline(self, *, name: str, version: int | None = None) -> dict[str, Any]:
        """GetPipeline: the current declaration, or that of structure ``version``."""
        pipeline = self._pipeline("GetPipeline", name)
        declaration = pipeline.declaration
        if version is not None:
            if version not in pipeline.versions:
                raise client_error(
                    "GetPipeline",
                    "PipelineVersionNotFoundException",
                    f"Pipeline {name} has no version {version}",
                )
            declaration = pipeline.versions[version]
        return {
            "pipeline": copy.deepcopy(declaration),
            "metadata": {
                "pipelineArn": f"arn:aws:codepipeline:us-east-1:123456789012:{name}",
                "created": pipeline.created,
                "updated": pipeline.updated,
            },
        }

    def get_pipeline_execution(
        self, *, pipelineName: str, pipelineExecutionId: str
    ) -> dict[str, Any]:
        execution = self._execution("GetPipelineExecution", pipelineName, pipelineExecutionId)
        body = {
            **execution_fields(execution),
            "pipelineName": execution.pipeline_name,
            "pipelineVersion": execution.pipeline_version,
            "artifactRevisions": [],
            "variables": [
                {"name": name, "resolvedValue": value}
                for name, value in execution.variables.items()
            ],
        }
        return {"pipelineExecution": body}

    def list_pipeline_executions(
        self,
        *,
        pipelineName: str,
        maxResults: int = 100,
        nextToken: str | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        pipeline = self._pipeline("ListPipelineExecutions", pipelineName)
        executions = list(reversed(pipeline.executions))
        stage_filter = (filter or {}).get("succeededInStage", {}).get("stageName")
        if stage_filter:
            # Only executions of the current structure version, as CodePipeline lists them.
            executions = [
                e
                for e in executions
                if stage_status(e, stage_filter) == SUCCEEDED
                and e.pipeline_version == pipeline.version
            ]
        page, token = page_of("ListPipelineExecutions", executions, maxResults, nextToken)
        return {"pipelineExecutionSummaries": [execution_summary(e) for e in page], **token}

    def list_action_executions(
        self,
        *,
        pipelineName: str,
        filter: Mapping[str, Any] | None = None,
        maxResults: int = 100,
        nextToken: str | None = None,
    ) -> dict[str, Any]:
        pipeline = self._pipeline("ListActionExecutions", pipelineName)
        wanted = (filter or {}).get("pipelineExecutionId")
        executions = pipeline.executions
        if wanted is not None:
            executions = [self._execution("ListActionExecutions", pipelineName, wanted)]
        actions = [
            action
            for execution in executions
            for stage in execution.stages.values()
            for action in [*stage.retried, *stage.actions.values()]
        ]
        actions.sort(key=lambda a: (a.start_time, a.action_execution_id), reverse=True)
        page, token = page_of("ListActionExecutions", actions, maxResults, nextToken)
        return {"actionExecutionDetails": [action_detail(pipeline, a) for a in page], **token}

    def get_pipeline_state(self, *, name: str) -> dict[str, Any]:
        pipeline = self._pipeline("GetPipelineState", name)
        states = []
        for stage in pipeline.declaration["stages"]:
            latest = next(
                (e for e in reversed(pipeline.executions) if stage["name"] in e.stages), None
            )
            state: dict[str, Any] = {
                "stageName": stage["name"],
                "inboundTransitionState": self.transition_state(pipeline, stage["name"]),
                "actionStates": [],
            }
            if latest is not None:
                stage_execution = latest.stages[stage["name"]]
                state["latestExecution"] = {
                    "pipelineExecutionId": latest.pipeline_execution_id,
                    "status": stage_execution.status,
                    "type": latest.execution_type,
                }
            for action in stage["actions"]:
                action_state: dict[str, Any] = {"actionName": action["name"]}
                ran = None if latest is None else latest.stages[stage["name"]].actions
                if ran and action["name"] in ran:
                    record = ran[action["name"]]
                    action_state["latestExecution"] = {
                        "actionExecutionId": record.action_execution_id,
                        "status": record.status,
                        "lastStatusChange": record.last_update_time,
                        **({"summary": record.summary} if record.summary else {}),
                        **({"lastUpdatedBy": record.updated_by} if record.updated_by else {}),
                    }
                state["actionStates"].append(action_state)
            states.append(state)
        return {
            "pipelineName": name,
            "pipelineVersion": pipeline.declaration["version"],
            "stageStates": states,
            "created": pipeline.created,
            "updated": pipeline.updated,
        }

    def get_paginator(self, operation_name: str) -> Paginator:
        calls: dict[str, Callable[..., dict[str, Any]]] = {
            "list_pipeline_executions": self.list_pipeline_executions,
            "list_action_executions": self.list_action_executions,
        }
        if operation_name not in calls:
            raise ValueError(f"no paginator for {operation_name!r} in the emulated CodePipeline")
        return Paginator(calls[operation_name])

    # --- write APIs -----------------------------------------------------------------

    def start_pipeline_execution(
        self,
        *,
        name: str,
        variables: list[Mapping[str, str]] | None = None,
        clientRequestToken: str | None = None,
        sourceRevisions: list[Mapping[str, str]] | None = None,
        caller: str = "greenlight",
    ) -> dict[str, Any]:
        """StartPipelineExecution; ``caller`` (the caller's identity ARN, where the
        sandbox knows it) is the trigger detail."""
        operation = "StartPipelineExecution"
        pipeline = self._pipeline(operation, name)
        if clientRequestToken is not None and clientRequestToken in pipeline.tokens:
            return {"pipelineExecutionId": pipeline.tokens[clientRequestToken]}
        resolved = resolve_variables(operation, pipeline, variables or [])
        execution = self.start_execution(
            pipeline,
            variables=resolved,
            trigger_type="StartPipelineExecution",
            trigger_detail=caller,
        )
        execution.client_request_token = clientRequestToken
        if clientRequestToken is not None:
            pipeline.tokens[clientRequestToken] = execution.pipeline_execution_id
        return {"pipelineExecutionId": execution.pipeline_execution_id}

    def stop_pipeline_execution(
        self,
        *,
        pipelineName: str,
        pipelineExecutionId: str,
        abandon: bool = False,
        reason: str | None = None,
    ) -> dict[str, Any]:
        operation = "StopPipelineExecution"
        execution = self._execution(operation, pipelineName, pipelineExecutionId)
        if execution.status == STOPPING and not abandon:
            raise client_error(
                operation,
                "DuplicatedStopRequestException",
                f"Execution {pipelineExecutionId} is already being stopped",
            )
        if execution.status not in (IN_PROGRESS, STOPPING):
            raise client_error(
                operation,
                "PipelineExecutionNotStoppableException",
                f"Execution {pipelineExecutionId} is {execution.status} and cannot be stopped",
            )
        now = self.clock.now()
        if reason is not None or execution.stop_reason is None:
            execution.stop_reason = reason
        running = [
            action
            for stage in execution.stages.values()
            for action in stage.actions.values()
            if action.status == IN_PROGRESS
        ]
        if abandon or not running:
            for action in running:
                action.status = ABANDONED
                action.last_update_time = now
            for stage in execution.stages.values():
                if stage.status == IN_PROGRESS:
                    stage.status = STOPPED
                    stage.last_update_time = now
            execution.status = STOPPED
        else:
            execution.status = STOPPING
        execution.last_update_time = now
        return {"pipelineExecutionId": pipelineExecutionId}

    def rollback_stage(
        self,
        *,
        pipelineName: str,
        stageName: str,
        targetPipelineExecutionId: str,
        caller: str | None = None,
    ) -> dict[str, Any]:
        """RollbackStage; the new execution's trigger is ManualRollback with the caller's
        identity ARN as its detail (``caller``, where the sandbox knows it)."""
        operation = "RollbackStage"
        pipeline = self._pipeline_with_stage(operation, pipelineName, stageName)
        target = self._execution(operation, pipelineName, targetPipelineExecutionId)
        if stageName == pipeline.stage_names[0]:
            raise client_error(
                operation,
                "UnableToRollbackStageException",
                f"Stage {stageName} is the first stage and cannot be rolled back",
            )
        check_rollback_target(operation, pipeline, target, stageName)
        for other in pipeline.executions:
            if stage_status(other, stageName) == IN_PROGRESS:
                raise client_error(
                    operation,
                    "ConflictException",
                    f"Stage {stageName} is running execution {other.pipeline_execution_id}",
                )
        execution = self.start_execution(
            pipeline,
            variables=dict(target.variables),
            trigger_type="ManualRollback",
            trigger_detail=caller or f"RollbackStage {stageName}",
            execution_type="ROLLBACK",
            rollback_target=targetPipelineExecutionId,
            rollback_stage=stageName,
        )
        return {"pipelineExecutionId": execution.pipeline_execution_id}
