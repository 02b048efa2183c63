"""The sandbox's log in words: what the trigger decided, and what the pipeline did."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pipeline_scripts.sandbox.changes import Change
from pipeline_scripts.sandbox.runtime import LambdaRuntime
from shared.contract import VAR_MODEL_PACKAGE_ARN, is_model_version

Log = Callable[[str], None]


class Narrator:
    """Says each function invocation's outcome and each pipeline change worth a line."""

    def __init__(self, runtime: LambdaRuntime, say: Log) -> None:
        self._runtime = runtime
        self._say = say
        #: (function, event id) -> how its last invocation was narrated.
        self._narrated: dict[tuple[str, str], str] = {}

    def invocation(self, function: str, event: dict[str, Any], result: Any) -> None:
        if result is None:
            dead = self._runtime.dead_letters[-1]
            attempts = 1 + len(self._runtime.retry_waits(function))
            self._say(
                f"{dead.function} failed {attempts} time{'s' if attempts > 1 else ''}; "
                f"event {event['id']} -> DLQ: {dead.error}"
            )
            return
        if isinstance(result, dict) and "outcome" in result:
            self._trigger_outcome(function, event, result)

    def _trigger_outcome(
        self, function: str, event: dict[str, Any], result: dict[str, Any]
    ) -> None:
        detail = event.get("detail", {})
        version = detail.get("ModelPackageVersion", "?")
        status = detail.get("ModelApprovalStatus", "?")
        what = _outcome_text(result)
        key = (self._runtime.spec(function).name, str(event.get("id")))
        earlier = self._narrated.get(key)
        self._narrated[key] = what
        if earlier is not None and result["outcome"] != "failed" and earlier == what:
            # The trigger found the event's outcome already recorded and did nothing.
            execution = str(result.get("pipelineExecutionId") or "")[:8]
            self._say(
                f"trigger: {status} event for v{version} redelivered -> nothing done, "
                f"its outcome is already recorded ({result['outcome']}"
                + (f", execution {execution})" if execution else ")")
            )
            return
        self._say(f"trigger: {status} event for v{version} -> {what}")

    def pipeline(self, kind: str, change: Change) -> None:
        execution = change.execution
        versioned = is_model_version(execution.variables.get(VAR_MODEL_PACKAGE_ARN, ""))
        version = f"v{execution.variables.get('ModelPackageVersion', '?')}"
        label = f"{execution.pipeline_execution_id[:8]} ({version if versioned else 'no version'})"
        if execution.execution_type == "ROLLBACK":
            label += " [rollback]"
        state = change.state
        if kind == "execution" and state == "STARTED":
            if execution.execution_type == "ROLLBACK":
                how = f"{execution.trigger_type} of {execution.rollback_stage}"
            elif versioned:
                how = execution.variables.get("TriggerReason", "")
            else:  # the pipeline's own run on creation, or a release with no version
                how = execution.trigger_type
            self._say(f"pipeline: execution {label} started ({how})")
        elif kind == "execution":
            self._say(f"pipeline: execution {label} {state.lower()}")
        elif kind == "stage" and state in ("SUCCEEDED", "FAILED"):
            self._say(f"pipeline: {label} {change.stage} {state.lower()}")
        elif kind == "action" and state == "FAILED":
            self._say(f"pipeline: {label} {change.stage}.{change.action} failed: {change.summary}")
        elif (
            kind == "action"
            and state == "STARTED"
            and (change.action_type or {}).get("category") == "Approval"
        ):
            self._say(f"pipeline: {label} waits for a manual approval at {change.stage}")


def _outcome_text(result: Mapping[str, Any]) -> str:
    """The trigger's answer in words: the execution it started, or what it decided and
    why (a skip names no execution, even when its reason mentions one)."""
    outcome = str(result["outcome"])
    execution = str(result.get("pipelineExecutionId") or "")[:8]
    if outcome == "started" and execution:
        return f"started execution {execution}"
    if outcome == "rollback-started" and execution:
        return f"rollback-started execution {execution}"
    return f"{outcome} ({result['reason']})" if result.get("reason") else outcome
