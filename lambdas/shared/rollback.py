"""Which execution a stage rolls back to, and how the rollback starts: one rule for the
rejection rollback (approval trigger) and ``greenlight rollback`` alike.

CodePipeline's rules (docs/aws-behaviour.md, CodePipeline): a RollbackStage target must
have succeeded in the stage, must not be a ROLLBACK execution, and must have started on
the pipeline's current structure version. So:

- a ROLLBACK execution that succeeded in a stage stands for its target
  (``rollbackMetadata.rollbackTargetPipelineExecutionId``), whose variables it ran with;
- an execution without a model version (the one CodePipeline starts on pipeline
  creation, a console "Release change") deployed nothing and is not a deployment;
- when the target started on an earlier structure version, or RollbackStage refuses it,
  the rollback is a normal execution of the target's version, with the variables an
  approval would send, and is recorded as a rollback all the same.

And Greenlight's own rule, for every path that puts a version back or deploys it again
(the rejection rollback, ``greenlight rollback``, ``greenlight redeploy``): only a
version the registry says is Approved *now* (:func:`refusal`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from shared import contract

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient

APPROVED: Final = "Approved"
REJECTED: Final = "Rejected"
#: The errors with which RollbackStage refuses a target that a new execution can replace.
REFUSALS: Final = ("UnableToRollbackStageException",)
ROLLBACK_STAGE: Final = "RollbackStage"
START_EXECUTION: Final = "StartPipelineExecution"


def refusal(arn: str, status: str | None) -> str | None:
    """Why ``arn``, whose ModelApprovalStatus is ``status`` (None: not in the registry),
    may not be deployed again; None when it may: it is Approved."""
    if status == APPROVED:
        return None
    return f"{arn} is {status or 'not in the registry'}, not Approved"


def has_model_version(variables: dict[str, str]) -> bool:
    """True when the execution carries a model package ARN (not the variables' default)."""
    return contract.is_model_version(variables.get(contract.VAR_MODEL_PACKAGE_ARN, ""))


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """A version that succeeded in a stage, by the execution a rollback would target."""

    execution_id: str
    arn: str
    version: int | None
    pipeline_version: int
    variables: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class Started:
    """A rollback that started: the execution, and how (RollbackStage or a new run)."""

    execution_id: str
    via: str


@dataclass
class PipelineHistory:
    """CodePipeline's history of one pipeline, read lazily and cached."""

    codepipeline: CodePipelineClient
    pipeline_name: str
    _summaries: list[dict[str, Any]] | None = None
    _executions: dict[str, dict[str, Any]] = field(default_factory=dict)
    _actions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _declared: dict[int, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    _version: int | None = None

    def summaries(self) -> list[dict[str, Any]]:
        """Every execution, newest first."""
        if self._summaries is None:
            self._summaries = self._list()
        return self._summaries

    def succeeded_in(self, stage: str) -> Iterator[dict[str, Any]]:
        """Executions that succeeded in ``stage``, newest first (rollbacks included), of
        every structure version: ListPipelineExecutions' ``succeededInStage`` filter lists
        the current version's only, so success is read from the actions each one ran."""
        for summary in self.summaries():
            if self.stage_succeeded(str(summary["pipelineExecutionId"]), stage):
                yield summary

    def stage_succeeded(self, execution_id: str, stage: str) -> bool:
        """Every action the stage declared (in the execution's structure version) ended
        Succeeded in its latest attempt."""
        version = int(self.execution(execution_id).get("pipelineVersion", 1))
        declared = self.declared_actions(version, stage)
        latest: dict[str, str] = {}
        for action in self.actions(execution_id):  # newest first
            if action["stageName"] == stage:
                latest.setdefault(str(action["actionName"]), str(action["status"]))
        return bool(declared) and all(latest.get(name) == "Succeeded" for name in declared)

    def touched(self, execution_id: str, stage: str) -> bool:
        return any(a["stageName"] == stage for a in self.actions(execution_id))

    def actions(self, execution_id: str) -> list[dict[str, Any]]:
        """The execution's action executions, newest first."""
        if execution_id not in self._actions:
            paginator = self.codepipeline.get_paginator("list_action_executions")
            self._actions[execution_id] = [
                dict(detail)
                for page in paginator.paginate(
                    pipelineName=self.pipeline_name,
                    filter={"pipelineExecutionId": execution_id},
                )
                for detail in page["actionExecutionDetails"]
            ]
        return self._actions[execution_id]

    def declared_actions(self, version: int, stage: str) -> tuple[str, ...]:
        if version not in self._declared:
            pipeline = self.codepipeline.get_pipeline(name=self.pipeline_name, version=version)
            self._declared[version] = {
                s["name"]: tuple(a["name"] for a in s["actions"])
                for s in pipeline["pipeline"]["stages"]
            }
        return self._declared[version].get(stage, ())

    def execution(self, execution_id: str) -> dict[str, Any]:
        if execution_id not in self._executions:
            self._executions[execution_id] = dict(
                self.codepipeline.get_pipeline_execution(
                    pipelineName=self.pipeline_name, pipelineExecutionId=execution_id
                )["pipelineExecution"]
            )
        return self._executions[execution_id]

    def variables(self, execution_id: str) -> dict[str, str]:
        execution = self.execution(execution_id)
        return {v["name"]: v["resolvedValue"] for v in execution.get("variables", [])}

    def current_version(self) -> int:
        if self._version is None:
            pipeline = self.codepipeline.get_pipeline(name=self.pipeline_name)["pipeline"]
            self._version = int(pipeline.get("version", 1))
        return self._version

    def deployments(self, stage: str) -> Iterator[Deployment]:
        """The versions that succeeded in ``stage``, newest first; the first is live."""
        for summary in self.succeeded_in(stage):
            target_id = str(summary["pipelineExecutionId"])
            if summary.get("executionType") == "ROLLBACK":
                metadata = summary.get("rollbackMetadata") or {}
                target_id = str(metadata.get("rollbackTargetPipelineExecutionId") or target_id)
            variables = self.variables(target_id)
            if not has_model_version(variables):
                continue
            version_text = variables.get(contract.VAR_MODEL_PACKAGE_VERSION, "")
            yield Deployment(
                execution_id=target_id,
                arn=variables[contract.VAR_MODEL_PACKAGE_ARN],
                version=int(version_text) if version_text.isdigit() else None,
                pipeline_version=int(self.execution(target_id).get("pipelineVersion", 1)),
                variables=variables,
            )

    def live(self, stage: str) -> Deployment | None:
        return next(self.deployments(stage), None)

    def target(self, stage: str, accept: Callable[[Deployment], bool]) -> Deployment | None:
        """The newest deployment in ``stage`` that ``accept`` takes."""
        return next((d for d in self.deployments(stage) if accept(d)), None)

    def approved_target(
        self, stage: str, *, other_than: str, status: Callable[[str], str | None]
    ) -> Deployment | None:
        """The newest deployment in ``stage`` of a version other than ``other_than`` that
        is still Approved (``status``: an ARN's ModelApprovalStatus now, asked once per
        version)."""
        known: dict[str, str | None] = {}

        def approved(candidate: Deployment) -> bool:
            if candidate.arn == other_than:
                return False
            if candidate.arn not in known:
                known[candidate.arn] = status(candidate.arn)
            return refusal(candidate.arn, known[candidate.arn]) is None

        return self.target(stage, approved)

    def _list(self, **kwargs: Any) -> list[dict[str, Any]]:
        paginator = self.codepipeline.get_paginator("list_pipeline_executions")
        return [
            dict(summary)
            for page in paginator.paginate(pipelineName=self.pipeline_name, **kwargs)
            for summary in page["pipelineExecutionSummaries"]
        ]


def start_rollback(
    history: PipelineHistory,
    stage: str,
    target: Deployment,
    *,
    reason: str,
    request_id: str,
) -> Started:
    """Roll ``stage`` back to ``target``: RollbackStage when CodePipeline takes it, else a
    new execution of the target's version (one per request and version, whatever the
    stage: a retry or a second stage gets the same execution)."""
    if target.pipeline_version == history.current_version():
        try:
            response = history.codepipeline.rollback_stage(
                pipelineName=history.pipeline_name,
                stageName=stage,
                targetPipelineExecutionId=target.execution_id,
            )
            return Started(execution_id=response["pipelineExecutionId"], via=ROLLBACK_STAGE)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in REFUSALS:
                raise
    response = history.codepipeline.start_pipeline_execution(
        name=history.pipeline_name,
        variables=[
            {"name": contract.VAR_MODEL_PACKAGE_ARN, "value": target.arn},
            {
                "name": contract.VAR_MODEL_PACKAGE_VERSION,
                "value": str(target.version or 0),
            },
            {"name": contract.VAR_TRIGGER_REASON, "value": reason},
            {"name": contract.VAR_REQUEST_ID, "value": request_id},
        ],
        clientRequestToken=_token(request_id, target.arn),
    )
    return Started(execution_id=response["pipelineExecutionId"], via=START_EXECUTION)


def _token(request_id: str, arn: str) -> str:
    digest = hashlib.sha256(f"{request_id}|{arn}".encode()).hexdigest()[:40]
    return f"greenlight-rollback-{digest}"
