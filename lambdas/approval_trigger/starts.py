"""Starting and stopping the group's pipeline executions for the approval trigger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from shared import contract
from shared.pipeline_history import PipelineHistory

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient

#: StopPipelineExecution's answers when the execution is already stopped or stopping.
_NOT_STOPPABLE: Final = ("PipelineExecutionNotStoppableException", "DuplicatedStopRequestException")
#: StopPipelineExecution takes a reason of 200 characters at most.
_STOP_REASON_CHARS: Final = 200


@dataclass(frozen=True)
class PipelineStarts:
    codepipeline: CodePipelineClient
    pipeline_name: str

    def start(
        self, *, arn: str, version: str, trigger_reason: str, request_id: str, token: str
    ) -> str:
        """Start an execution deploying ``arn``; returns its id. ``token`` makes a retry
        of the same start find the execution it started."""
        response = self.codepipeline.start_pipeline_execution(
            name=self.pipeline_name,
            variables=contract.execution_variables(
                arn=arn, version=version, trigger_reason=trigger_reason, request_id=request_id
            ),
            clientRequestToken=token,
        )
        return str(response["pipelineExecutionId"])

    def stop_overtaken(self, execution_id: str, newer_version: int, event_id: str) -> None:
        """Stop (letting running actions finish, so nothing is half deployed) an execution
        a newer approval overtook before it could run."""
        reason = f"Greenlight: version {newer_version} was approved later (event {event_id})"
        self._stop(execution_id, reason, abandon=False, unless=_NOT_STOPPABLE)

    def stop_versionless(self, arn: str, event_id: str) -> None:
        """Stop (abandon) running executions that carry no model version — the one
        CodePipeline starts on pipeline creation, a "Release change" — so one waiting at
        a manual approval does not hold the approved version back. They deploy nothing."""
        history = PipelineHistory(self.codepipeline, self.pipeline_name)
        for summary in history.summaries():
            execution_id = summary.execution_id
            if summary.status != contract.STATUS_IN_PROGRESS or summary.is_rollback:
                continue
            if not history.facts(execution_id).deploys_nothing:
                continue
            reason = (
                f"Greenlight: no model version to deploy; {arn} was approved (event {event_id})"
            )
            self._stop(
                execution_id,
                reason,
                abandon=True,
                unless=("PipelineExecutionNotStoppableException",),
            )

    def _stop(
        self, execution_id: str, reason: str, *, abandon: bool, unless: tuple[str, ...]
    ) -> None:
        """StopPipelineExecution; an error whose code is in ``unless`` means there is
        nothing (left) to stop."""
        try:
            self.codepipeline.stop_pipeline_execution(
                pipelineName=self.pipeline_name,
                pipelineExecutionId=execution_id,
                abandon=abandon,
                reason=reason[:_STOP_REASON_CHARS],
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in unless:
                raise
