"""Manual approval actions waiting for PutApprovalResult (CodePipeline user guide,
"Manual approvals"): each has a token that GetPipelineState shows, and an answer must
bring it back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline_scripts.emulation.codepipeline import client_error

#: (execution id, stage, action)
ApprovalKey = tuple[str, str, str]


@dataclass(frozen=True)
class Answer:
    """An accepted PutApprovalResult: which execution's action it ends, and how."""

    execution_id: str
    stage: str
    action: str
    approved: bool
    summary: str


@dataclass(frozen=True)
class _Approval:
    token: str
    pipeline: str
    stage: str
    action: str


class ManualApprovals:
    """The manual approval actions that wait for an answer."""

    def __init__(self) -> None:
        self._waiting: dict[ApprovalKey, _Approval] = {}

    def request(self, key: ApprovalKey, *, pipeline: str) -> None:
        """The approval action ``key`` of ``pipeline`` began: it waits, with a new token."""
        _, stage, action = key
        self._waiting[key] = _Approval(
            token=str(uuid.uuid4()), pipeline=pipeline, stage=stage, action=action
        )

    def drop(self, execution_id: str) -> None:
        """Forget the approvals of an execution that ended."""
        for key in [k for k in self._waiting if k[0] == execution_id]:
            del self._waiting[key]

    def answer(
        self,
        *,
        pipelineName: str,
        stageName: str,
        actionName: str,
        result: Mapping[str, str],
        token: str,
    ) -> Answer:
        """PutApprovalResult's checks: the token must be the waiting action's, the status
        Approved or Rejected."""
        operation = "PutApprovalResult"
        for key, approval in list(self._waiting.items()):
            if (approval.pipeline, approval.stage, approval.action) != (
                pipelineName,
                stageName,
                actionName,
            ):
                continue
            if approval.token != token:
                continue
            status = result.get("status")
            if status not in ("Approved", "Rejected"):
                raise client_error(operation, "ValidationException", f"result.status {status!r}")
            del self._waiting[key]
            summary = result.get("summary") or status
            return Answer(
                execution_id=key[0],
                stage=stageName,
                action=actionName,
                approved=status == "Approved",
                summary=f"{status}: {summary}",
            )
        raise client_error(
            operation,
            "InvalidApprovalTokenException",
            f"The token is not valid for {pipelineName}/{stageName}/{actionName}",
        )

    def show_tokens(self, state: dict[str, Any]) -> None:
        """Put the waiting approvals' tokens in a GetPipelineState response."""
        name = state["pipelineName"]
        for stage in state["stageStates"]:
            for action in stage["actionStates"]:
                for (_, stage_name, action_name), approval in self._waiting.items():
                    if approval.pipeline != name:
                        continue
                    if (stage_name, action_name) == (stage["stageName"], action["actionName"]):
                        action.setdefault("latestExecution", {})["token"] = approval.token
