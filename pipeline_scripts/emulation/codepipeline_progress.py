"""How the emulated CodePipeline's executions move forward: the state transitions the
sandbox's pipeline engine (``sandbox.engine``, the one driver of a pipeline's order)
makes as it runs actions, and the rollback a stage's ``OnFailure: ROLLBACK`` starts.
Statuses of stages and executions follow from the actions as in CodePipeline."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from pipeline_scripts.emulation.codepipeline_control import PipelineControl, automatic_target
from pipeline_scripts.emulation.codepipeline_model import (
    ABANDONED,
    EXECUTION_DONE,
    FAILED,
    IN_PROGRESS,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    ActionExecution,
    StageExecution,
)


class ExecutionProgress(PipelineControl):
    """Actions begun and finished, and executions ended, by the pipeline engine."""

    def start_automated_rollback(self, *, pipeline_name: str, stage_name: str) -> str | None:
        """What ``OnFailure: ROLLBACK`` does when a stage fails: roll the stage back to the
        last execution that succeeded in it and may be a rollback target. Returns the new
        execution id, or None when there is no such execution."""
        pipeline = self._pipeline("RollbackStage", pipeline_name)
        target = automatic_target(pipeline, stage_name)
        if target is None:
            return None
        execution = self.start_execution(
            pipeline,
            variables=dict(target.variables),
            trigger_type="AutomatedRollback",
            trigger_detail=f"OnFailure ROLLBACK of {stage_name}",
            execution_type="ROLLBACK",
            rollback_target=target.pipeline_execution_id,
            rollback_stage=stage_name,
        )
        return execution.pipeline_execution_id

    def begin_action(
        self,
        execution_id: str,
        stage: str,
        action: str,
        *,
        configuration: Mapping[str, str] | None = None,
    ) -> str:
        """Start ``action`` of ``stage`` in the execution; returns the action execution id."""
        execution, pipeline = self._running(execution_id)
        declared = pipeline.action(stage, action)
        if declared is None:
            raise ValueError(f"pipeline {pipeline.name} has no action {stage}.{action}")
        now = self.clock.now()
        stage_execution = execution.stages.get(stage)
        if stage_execution is None:
            stage_execution = StageExecution(
                stage_name=stage, status=IN_PROGRESS, start_time=now, last_update_time=now
            )
            execution.stages[stage] = stage_execution
        if action in stage_execution.actions:
            raise ValueError(f"{stage}.{action} already ran in execution {execution_id}")
        stage_execution.status = IN_PROGRESS
        record = ActionExecution(
            action_execution_id=str(uuid.uuid4()),
            pipeline_execution_id=execution_id,
            stage_name=stage,
            action_name=action,
            status=IN_PROGRESS,
            start_time=now,
            last_update_time=now,
            action_type_id=dict(declared.get("actionTypeId", {})),
            configuration=dict(configuration or declared.get("configuration", {})),
        )
        stage_execution.actions[action] = record
        execution.last_update_time = now
        return record.action_execution_id

    def finish_action(
        self,
        execution_id: str,
        stage: str,
        action: str,
        status: str,
        *,
        summary: str | None = None,
        output_variables: Mapping[str, str] | None = None,
        updated_by: str | None = None,
    ) -> None:
        """End a running action with Succeeded or Failed; the stage and the execution
        follow (a failed action fails its stage and the execution; a Stopping execution
        becomes Stopped once nothing runs, and so does one the pipeline's update fails)."""
        if status not in (SUCCEEDED, FAILED):
            raise ValueError(f"an action finishes Succeeded or Failed, not {status!r}")
        execution = self._find(execution_id)
        record = execution.stages.get(stage, None)
        action_record = None if record is None else record.actions.get(action)
        if record is None or action_record is None or action_record.status != IN_PROGRESS:
            raise ValueError(f"{stage}.{action} is not running in execution {execution_id}")
        now = self.clock.now()
        action_record.status = status
        action_record.summary = summary
        action_record.output_variables = dict(output_variables or {})
        action_record.updated_by = updated_by
        action_record.last_update_time = now
        record.last_update_time = now
        execution.last_update_time = now
        pipeline = self._pipelines[execution.pipeline_name]
        declared = pipeline.stage(stage) or {"actions": []}
        if status == FAILED:
            record.status = FAILED
            if execution.status == IN_PROGRESS:
                execution.status = FAILED
                execution.status_summary = summary
        elif all(
            a["name"] in record.actions and record.actions[a["name"]].status == SUCCEEDED
            for a in declared["actions"]
        ):
            record.status = SUCCEEDED
        if execution.status == STOPPING and not any(
            a.status == IN_PROGRESS for s in execution.stages.values() for a in s.actions.values()
        ):
            execution.status = STOPPED
            for stage_execution in execution.stages.values():
                if stage_execution.status == IN_PROGRESS:
                    stage_execution.status = STOPPED
        self.fail_if_updated(execution)

    def finish_execution(
        self, execution_id: str, status: str = SUCCEEDED, summary: str | None = None
    ) -> None:
        """End an InProgress execution; Succeeded only when every stage it ran succeeded."""
        if status not in EXECUTION_DONE:
            raise ValueError(f"an execution finishes as one of {EXECUTION_DONE}, not {status!r}")
        execution, _ = self._running(execution_id)
        if status == SUCCEEDED and any(s.status != SUCCEEDED for s in execution.stages.values()):
            raise ValueError(f"execution {execution_id} has stages that did not succeed")
        now = self.clock.now()
        for stage in execution.stages.values():
            for action in stage.actions.values():
                if action.status == IN_PROGRESS:
                    action.status = ABANDONED
                    action.last_update_time = now
            if stage.status == IN_PROGRESS:
                stage.status = status if status != SUCCEEDED else stage.status
                stage.last_update_time = now
        execution.status = status
        execution.status_summary = summary
        execution.last_update_time = now
