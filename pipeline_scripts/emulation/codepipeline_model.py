"""The records of the emulated CodePipeline and how the read APIs shape them.

See ``codepipeline.py`` for what is emulated and ``docs/aws-behaviour.md`` (CodePipeline)
for the AWS pages each behaviour comes from.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from botocore.exceptions import ClientError

from shared import contract

# The statuses, by the contract's names (the emulator's modules and tests import these).
SUCCEEDED: Final = contract.STATUS_SUCCEEDED
FAILED: Final = contract.STATUS_FAILED
IN_PROGRESS: Final = contract.STATUS_IN_PROGRESS
STOPPING: Final = contract.STATUS_STOPPING
STOPPED: Final = contract.STATUS_STOPPED
SUPERSEDED: Final = contract.STATUS_SUPERSEDED
CANCELLED: Final = contract.STATUS_CANCELLED
ABANDONED: Final = contract.STATUS_ABANDONED

ACTION_DONE: Final = (SUCCEEDED, FAILED, ABANDONED)
EXECUTION_DONE: Final = (SUCCEEDED, FAILED, STOPPED, SUPERSEDED, CANCELLED)


def client_error(operation: str, code: str, message: str) -> ClientError:
    """A ClientError shaped like the one botocore raises for a service error."""
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@dataclass
class ActionExecution:
    action_execution_id: str
    pipeline_execution_id: str
    stage_name: str
    action_name: str
    status: str
    start_time: datetime
    last_update_time: datetime
    action_type_id: dict[str, str]
    configuration: dict[str, str]
    summary: str | None = None
    external_execution_id: str | None = None
    output_variables: dict[str, str] = field(default_factory=dict)
    #: Who answered a manual approval (the caller's identity ARN).
    updated_by: str | None = None


@dataclass
class StageExecution:
    stage_name: str
    status: str
    start_time: datetime
    last_update_time: datetime
    actions: dict[str, ActionExecution] = field(default_factory=dict)
    #: Earlier attempts of actions that RetryStageExecution ran again.
    retried: list[ActionExecution] = field(default_factory=list)


@dataclass
class PipelineExecution:
    pipeline_execution_id: str
    pipeline_name: str
    pipeline_version: int
    status: str
    start_time: datetime
    last_update_time: datetime
    variables: dict[str, str]
    trigger_type: str
    trigger_detail: str
    execution_mode: str
    execution_type: str = contract.EXECUTION_STANDARD
    rollback_target: str | None = None
    #: The one stage a ROLLBACK execution runs.
    rollback_stage: str | None = None
    status_summary: str | None = None
    stop_reason: str | None = None
    client_request_token: str | None = None
    stages: dict[str, StageExecution] = field(default_factory=dict)
    #: The pipeline was updated while this execution ran: it fails once nothing runs.
    fails_on_update: bool = False

    def running_actions(self) -> list[ActionExecution]:
        return [
            action
            for stage in self.stages.values()
            for action in stage.actions.values()
            if action.status == IN_PROGRESS
        ]


@dataclass(frozen=True)
class DisabledTransition:
    reason: str
    at: datetime
    by: str


@dataclass
class Pipeline:
    declaration: dict[str, Any]
    created: datetime
    updated: datetime
    executions: list[PipelineExecution] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    #: Every structure version's declaration, by version (GetPipeline ``version``).
    versions: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: (stage, "Inbound" | "Outbound") -> why it is disabled.
    disabled: dict[tuple[str, str], DisabledTransition] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return int(self.declaration["version"])

    def __post_init__(self) -> None:
        self.versions.setdefault(self.version, copy.deepcopy(self.declaration))

    @property
    def name(self) -> str:
        return str(self.declaration["name"])

    @property
    def stage_names(self) -> list[str]:
        return [str(stage["name"]) for stage in self.declaration["stages"]]

    def stage(self, name: str) -> dict[str, Any] | None:
        for stage in self.declaration["stages"]:
            if stage["name"] == name:
                return dict(stage)
        return None

    def action(self, stage: str, action: str) -> dict[str, Any] | None:
        declared = self.stage(stage)
        if declared is None:
            return None
        for candidate in declared["actions"]:
            if candidate["name"] == action:
                return dict(candidate)
        return None


def stage_status(execution: PipelineExecution, stage: str) -> str | None:
    record = execution.stages.get(stage)
    return None if record is None else record.status


def resolve_variables(
    operation: str, pipeline: Pipeline, given: list[Mapping[str, str]]
) -> dict[str, str]:
    declared = {str(v["name"]): v for v in pipeline.declaration["variables"]}
    resolved: dict[str, str] = {}
    for variable in given:
        name, value = variable.get("name"), variable.get("value")
        if name not in declared:
            raise client_error(
                operation,
                "ValidationException",
                f"Variable {name} is not declared in pipeline {pipeline.name}",
            )
        if value is None or len(value) > 1000:
            raise client_error(
                operation,
                "ValidationException",
                f"Variable {name} needs a value of 1000 characters or fewer",
            )
        resolved[name] = value
    for name, variable in declared.items():
        if name not in resolved:
            if "defaultValue" not in variable:
                raise client_error(
                    operation,
                    "ValidationException",
                    f"Variable {name} has no default value and was not given",
                )
            resolved[name] = str(variable["defaultValue"])
    return resolved


def page_of(
    operation: str, items: list[Any], max_results: int, next_token: str | None
) -> tuple[list[Any], dict[str, str]]:
    if not 1 <= max_results <= 100:
        raise client_error(operation, "ValidationException", "maxResults must be 1..100")
    start = 0
    if next_token is not None:
        if not next_token.startswith("offset-") or not next_token[7:].isdigit():
            raise client_error(operation, "InvalidNextTokenException", "Invalid next token")
        start = int(next_token[7:])
    page = items[start : start + max_results]
    end = start + max_results
    return page, ({"nextToken": f"offset-{end}"} if end < len(items) else {})


def execution_fields(execution: PipelineExecution) -> dict[str, Any]:
    """What GetPipelineExecution and ListPipelineExecutions both say of an execution."""
    fields: dict[str, Any] = {
        "pipelineExecutionId": execution.pipeline_execution_id,
        "status": execution.status,
        "trigger": {
            "triggerType": execution.trigger_type,
            "triggerDetail": execution.trigger_detail,
        },
        "executionMode": execution.execution_mode,
        "executionType": execution.execution_type,
    }
    if execution.status_summary:
        fields["statusSummary"] = execution.status_summary
    if execution.rollback_target:
        fields["rollbackMetadata"] = {
            "rollbackTargetPipelineExecutionId": execution.rollback_target
        }
    return fields


def execution_summary(execution: PipelineExecution) -> dict[str, Any]:
    """ListPipelineExecutions' summary of an execution."""
    summary = {
        **execution_fields(execution),
        "startTime": execution.start_time,
        "lastUpdateTime": execution.last_update_time,
        "sourceRevisions": [],
    }
    if execution.stop_reason is not None:
        summary["stopTrigger"] = {"reason": execution.stop_reason}
    return summary


def action_detail(pipeline: Pipeline, action: ActionExecution) -> dict[str, Any]:
    """ListActionExecutions' detail; ``pipelineVersion`` is the version the action's
    execution started on."""
    version = next(
        (
            e.pipeline_version
            for e in pipeline.executions
            if e.pipeline_execution_id == action.pipeline_execution_id
        ),
        pipeline.version,
    )
    detail: dict[str, Any] = {
        "pipelineExecutionId": action.pipeline_execution_id,
        "actionExecutionId": action.action_execution_id,
        "pipelineVersion": version,
        "stageName": action.stage_name,
        "actionName": action.action_name,
        "startTime": action.start_time,
        "lastUpdateTime": action.last_update_time,
        "status": action.status,
        "input": {
            "actionTypeId": dict(action.action_type_id),
            "configuration": dict(action.configuration),
            "resolvedConfiguration": dict(action.configuration),
        },
        "output": {"outputVariables": dict(action.output_variables)},
    }
    if action.updated_by is not None:
        detail["updatedBy"] = action.updated_by
    if action.summary is not None:
        detail["output"]["executionResult"] = {"externalExecutionSummary": action.summary}
    return detail
