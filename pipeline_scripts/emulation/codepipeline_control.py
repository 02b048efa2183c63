"""The emulated CodePipeline's control of pipelines: declarations and their structure
versions, rollback targets, stage transitions and stage retries.

Each rule here is one line of ``docs/aws-behaviour.md`` (CodePipeline), with its page:

- CreatePipeline starts an execution by itself (trigger ``CreatePipeline``) with the
  variables' defaults; UpdatePipeline does not start one, raises the structure version
  by one when the declaration changed, and lets running actions finish before the
  executions that ran them fail.
- A rollback target (RollbackStage, and ``OnFailure: ROLLBACK``) must have succeeded in
  the stage, must not be a ROLLBACK execution, and must have started on the current
  structure version.
- DisableStageTransition / EnableStageTransition hold executions before a stage;
  RetryStageExecution runs a failed stage of the latest execution there again.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, Final

from botocore.exceptions import ClientError

from pipeline_scripts.emulation.codepipeline_model import (
    FAILED,
    IN_PROGRESS,
    STOPPED,
    SUCCEEDED,
    DisabledTransition,
    Pipeline,
    PipelineExecution,
    client_error,
    resolve_variables,
    stage_status,
)
from shared import contract
from shared.clock import Clock, current_clock

TRANSITION_TYPES: Final = ("Inbound", "Outbound")
RETRY_MODES: Final = ("FAILED_ACTIONS", "ALL_ACTIONS")
#: Who changes a transition when the caller is not known.
OPERATOR: Final = "arn:aws:iam::123456789012:user/sandbox-operator"
_STRUCTURE_KEYS: Final = ("stages", "variables", "executionMode", "pipelineType", "triggers")


def check_rollback_target(
    operation: str, pipeline: Pipeline, target: PipelineExecution, stage: str
) -> None:
    """Refuse a rollback target CodePipeline refuses (UnableToRollbackStageException)."""
    execution_id = target.pipeline_execution_id
    if target.execution_type == contract.EXECUTION_ROLLBACK:
        raise client_error(
            operation,
            "UnableToRollbackStageException",
            f"Execution {execution_id} is a ROLLBACK execution and cannot be a rollback target",
        )
    if stage_status(target, stage) != SUCCEEDED:
        raise client_error(
            operation,
            "UnableToRollbackStageException",
            f"Execution {execution_id} did not succeed in stage {stage}",
        )
    if target.pipeline_version != pipeline.version:
        raise client_error(
            operation,
            "UnableToRollbackStageException",
            f"Execution {execution_id} ran on pipeline version {target.pipeline_version}, "
            f"not the current version {pipeline.version}",
        )


def automatic_target(pipeline: Pipeline, stage: str) -> PipelineExecution | None:
    """The execution ``OnFailure: ROLLBACK`` rolls ``stage`` back to: the newest one that
    succeeded there and is an acceptable target, or None."""
    for execution in reversed(pipeline.executions):
        try:
            check_rollback_target(contract.ROLLBACK_STAGE, pipeline, execution, stage)
        except ClientError:
            continue  # not a target: look further back
        return execution
    return None


def structure_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return any(old.get(key) != new.get(key) for key in _STRUCTURE_KEYS)


class PipelineStore:
    """The registered pipelines and their executions, oldest first."""

    def __init__(self, *, clock: Clock | None = None, execution_ids: Iterator[str] | None = None):
        self.clock: Clock = clock or current_clock()
        self._ids = execution_ids
        self._pipelines: dict[str, Pipeline] = {}

    # --- setup --------------------------------------------------------------------

    def register_pipeline(self, declaration: Mapping[str, Any]) -> None:
        """Register a pipeline from the ``pipeline`` dict of a GetPipeline response."""
        pipeline = copy.deepcopy(dict(declaration))
        for key in ("name", "stages"):
            if key not in pipeline:
                raise ValueError(f"pipeline declaration: missing {key!r}")
        pipeline.setdefault("version", 1)
        pipeline.setdefault("pipelineType", "V2")
        pipeline.setdefault("executionMode", contract.EXECUTION_MODE_SUPERSEDED)
        pipeline.setdefault("variables", [])
        now = self.clock.now()
        self._pipelines[pipeline["name"]] = Pipeline(declaration=pipeline, created=now, updated=now)

    def pipeline_record(self, name: str) -> Pipeline:
        """The registered pipeline (declaration and executions, oldest first)."""
        return self._pipeline("GetPipeline", name)

    def pipeline_names(self) -> list[str]:
        return list(self._pipelines)

    def execution_record(self, execution_id: str) -> PipelineExecution:
        return self._find(execution_id)

    def _pipeline(self, operation: str, name: str) -> Pipeline:
        pipeline = self._pipelines.get(name)
        if pipeline is None:
            raise client_error(
                operation,
                "PipelineNotFoundException",
                f"Account '123456789012' does not have a pipeline with name '{name}'",
            )
        return pipeline

    def _pipeline_with_stage(self, operation: str, name: str, stage: str) -> Pipeline:
        """The pipeline ``name``, which must declare ``stage``."""
        pipeline = self._pipeline(operation, name)
        if pipeline.stage(stage) is None:
            raise client_error(
                operation, "StageNotFoundException", f"Stage {stage} not found in pipeline {name}"
            )
        return pipeline

    def _execution(
        self, operation: str, pipeline_name: str, execution_id: str
    ) -> PipelineExecution:
        pipeline = self._pipeline(operation, pipeline_name)
        for execution in pipeline.executions:
            if execution.pipeline_execution_id == execution_id:
                return execution
        raise client_error(
            operation,
            "PipelineExecutionNotFoundException",
            f"Pipeline execution {execution_id} not found in pipeline {pipeline_name}",
        )

    def _find(self, execution_id: str) -> PipelineExecution:
        for pipeline in self._pipelines.values():
            for execution in pipeline.executions:
                if execution.pipeline_execution_id == execution_id:
                    return execution
        raise ValueError(f"no pipeline execution {execution_id}")

    def _running(self, execution_id: str) -> tuple[PipelineExecution, Pipeline]:
        execution = self._find(execution_id)
        if execution.status != IN_PROGRESS:
            raise ValueError(f"execution {execution_id} is {execution.status}, not InProgress")
        return execution, self._pipelines[execution.pipeline_name]

    def start_execution(
        self,
        pipeline: Pipeline,
        *,
        variables: dict[str, str],
        trigger_type: str,
        trigger_detail: str,
        execution_type: str = contract.EXECUTION_STANDARD,
        rollback_target: str | None = None,
        rollback_stage: str | None = None,
    ) -> PipelineExecution:
        now = self.clock.now()
        execution_id = next(self._ids) if self._ids is not None else str(uuid.uuid4())
        execution = PipelineExecution(
            pipeline_execution_id=execution_id,
            pipeline_name=pipeline.name,
            pipeline_version=int(pipeline.declaration["version"]),
            status=IN_PROGRESS,
            start_time=now,
            last_update_time=now,
            variables=variables,
            trigger_type=trigger_type,
            trigger_detail=trigger_detail,
            execution_mode=str(pipeline.declaration["executionMode"]),
            execution_type=execution_type,
            rollback_target=rollback_target,
            rollback_stage=rollback_stage,
        )
        pipeline.executions.append(execution)
        return execution


class PipelineControl(PipelineStore):
    """CreatePipeline, UpdatePipeline, transitions and RetryStageExecution, for
    :class:`~pipeline_scripts.emulation.codepipeline.EmulatedCodePipeline`."""

    def create_pipeline(
        self,
        *,
        pipeline: Mapping[str, Any],
        tags: list[Mapping[str, str]] | None = None,
    ) -> dict[str, Any]:
        """CreatePipeline: register the declaration, then start its first execution."""
        name = str(pipeline.get("name"))
        if name in self.pipeline_names():
            raise client_error(
                contract.TRIGGER_CREATE_PIPELINE,
                "PipelineNameInUseException",
                f"Pipeline with name '{name}' already exists",
            )
        self.register_pipeline(pipeline)
        record = self.pipeline_record(name)
        self.start_execution(
            record,
            variables=resolve_variables(contract.TRIGGER_CREATE_PIPELINE, record, []),
            trigger_type=contract.TRIGGER_CREATE_PIPELINE,
            trigger_detail=f"arn:aws:codepipeline:us-east-1:123456789012:{name}",
        )
        return {"pipeline": copy.deepcopy(record.declaration), "tags": list(tags or [])}

    def update_pipeline(self, *, pipeline: Mapping[str, Any]) -> dict[str, Any]:
        """UpdatePipeline: a changed declaration is the next structure version; nothing
        starts, and executions that are running fail once their running actions end."""
        record = self._pipeline("UpdatePipeline", str(pipeline.get("name")))
        new = copy.deepcopy(dict(pipeline))
        new.setdefault("pipelineType", record.declaration.get("pipelineType", "V2"))
        new.setdefault(
            "executionMode",
            record.declaration.get("executionMode", contract.EXECUTION_MODE_SUPERSEDED),
        )
        new.setdefault("variables", [])
        changed = structure_changed(record.declaration, new)
        new["version"] = record.version + 1 if changed else record.version
        record.declaration = new
        record.versions[record.version] = copy.deepcopy(new)
        record.updated = self.clock.now()
        if changed:
            for execution in record.executions:
                if execution.status == IN_PROGRESS:
                    execution.fails_on_update = True
                    self.fail_if_updated(execution)
        return {"pipeline": copy.deepcopy(new)}

    def fail_if_updated(self, execution: PipelineExecution) -> None:
        if execution.fails_on_update and not execution.running_actions():
            now = self.clock.now()
            for stage in execution.stages.values():
                if stage.status == IN_PROGRESS:
                    stage.status = FAILED
                    stage.last_update_time = now
            execution.status = FAILED
            execution.status_summary = "The pipeline was updated while this execution ran"
            execution.last_update_time = now

    # --- transitions ------------------------------------------------------------------

    def disable_stage_transition(
        self,
        *,
        pipelineName: str,
        stageName: str,
        transitionType: str,
        reason: str,
        caller: str = OPERATOR,
    ) -> dict[str, Any]:
        record = self._transition("DisableStageTransition", pipelineName, stageName, transitionType)
        record.disabled[(stageName, transitionType)] = DisabledTransition(
            reason=reason, at=self.clock.now(), by=caller
        )
        return {}

    def enable_stage_transition(
        self,
        *,
        pipelineName: str,
        stageName: str,
        transitionType: str,
    ) -> dict[str, Any]:
        record = self._transition("EnableStageTransition", pipelineName, stageName, transitionType)
        record.disabled.pop((stageName, transitionType), None)
        return {}

    def may_enter(self, pipeline_name: str, stage: str) -> bool:
        """False while the transition into ``stage`` is disabled (its inbound, or the
        outbound of the stage before it)."""
        record = self.pipeline_record(pipeline_name)
        names = record.stage_names
        before = names[names.index(stage) - 1] if names.index(stage) > 0 else None
        return (stage, "Inbound") not in record.disabled and (
            before is None or (before, "Outbound") not in record.disabled
        )

    def transition_state(self, record: Pipeline, stage: str) -> dict[str, Any]:
        """GetPipelineState's ``inboundTransitionState`` of ``stage``."""
        names = record.stage_names
        before = names[names.index(stage) - 1] if names.index(stage) > 0 else None
        disabled = record.disabled.get((stage, "Inbound")) or (
            record.disabled.get((before, "Outbound")) if before else None
        )
        if disabled is None:
            return {"enabled": True}
        return {
            "enabled": False,
            "lastChangedBy": disabled.by,
            "lastChangedAt": disabled.at,
            "disabledReason": disabled.reason,
        }

    def _transition(self, operation: str, name: str, stage: str, kind: str) -> Pipeline:
        record = self._pipeline_with_stage(operation, name, stage)
        if kind not in TRANSITION_TYPES:
            raise client_error(
                operation,
                "ValidationException",
                f"transitionType must be one of {', '.join(TRANSITION_TYPES)}, not {kind!r}",
            )
        return record

    # --- retries ----------------------------------------------------------------------

    def retry_stage_execution(
        self,
        *,
        pipelineName: str,
        stageName: str,
        pipelineExecutionId: str,
        retryMode: str,
    ) -> dict[str, Any]:
        """RetryStageExecution: the latest execution in a Failed stage runs its failed
        actions (or all of them) again."""
        operation = "RetryStageExecution"
        record = self._pipeline_with_stage(operation, pipelineName, stageName)
        if retryMode not in RETRY_MODES:
            raise client_error(
                operation, "ValidationException", f"retryMode must be one of {RETRY_MODES}"
            )
        execution = self._execution(operation, pipelineName, pipelineExecutionId)
        latest = next(
            e for e in reversed(record.executions) if stageName in e.stages or e is execution
        )
        if latest is not execution:
            raise client_error(
                operation,
                "NotLatestPipelineExecutionException",
                f"Execution {pipelineExecutionId} is not the latest execution in stage {stageName}",
            )
        status = stage_status(execution, stageName)
        if status not in (FAILED, STOPPED) or execution.status not in (FAILED, STOPPED):
            raise client_error(
                operation,
                "StageNotRetryableException",
                f"Stage {stageName} of execution {pipelineExecutionId} is {status}, not Failed",
            )
        stage = execution.stages[stageName]
        for name, action in list(stage.actions.items()):
            if retryMode == "ALL_ACTIONS" or action.status != SUCCEEDED:
                stage.retried.append(stage.actions.pop(name))
        now = self.clock.now()
        stage.status = IN_PROGRESS
        stage.last_update_time = now
        execution.status = IN_PROGRESS
        execution.status_summary = None
        execution.last_update_time = now
        return {"pipelineExecutionId": pipelineExecutionId}
