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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from botocore.exceptions import ClientError

from shared import contract
from shared.pipeline_history import Deployment, PipelineHistory

#: The errors with which RollbackStage refuses a target that a new execution can replace.
REFUSALS: Final = ("UnableToRollbackStageException",)


def refusal(arn: str, status: str | None) -> str | None:
    """Why ``arn``, whose ModelApprovalStatus is ``status`` (None: not in the registry),
    may not be deployed again; None when it may: it is Approved."""
    if status == contract.APPROVED:
        return None
    return f"{arn} is {status or 'not in the registry'}, not Approved"


def approved_target(
    history: PipelineHistory,
    stage: str,
    *,
    other_than: str,
    status: Callable[[str], str | None],
) -> Deployment | None:
    """The newest deployment in ``stage`` of a version other than ``other_than`` that is
    still Approved (``status``: an ARN's ModelApprovalStatus now, asked once per version)."""
    known: dict[str, str | None] = {}

    def approved(candidate: Deployment) -> bool:
        if candidate.arn == other_than:
            return False
        if candidate.arn not in known:
            known[candidate.arn] = status(candidate.arn)
        return refusal(candidate.arn, known[candidate.arn]) is None

    return history.target(stage, approved)


@dataclass(frozen=True, kw_only=True)
class Started:
    """A rollback that started: the execution, and how (RollbackStage or a new run)."""

    execution_id: str
    via: str


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
            return Started(
                execution_id=response["pipelineExecutionId"], via=contract.ROLLBACK_STAGE
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in REFUSALS:
                raise
    response = history.codepipeline.start_pipeline_execution(
        name=history.pipeline_name,
        variables=contract.execution_variables(
            arn=target.arn,
            version=str(target.version or 0),
            trigger_reason=reason,
            request_id=request_id,
        ),
        clientRequestToken=_token(request_id, target.arn),
    )
    return Started(
        execution_id=response["pipelineExecutionId"], via=contract.TRIGGER_START_PIPELINE_EXECUTION
    )


def _token(request_id: str, arn: str) -> str:
    digest = hashlib.sha256(f"{request_id}|{arn}".encode()).hexdigest()[:40]
    return f"greenlight-rollback-{digest}"
