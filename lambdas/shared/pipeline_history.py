"""CodePipeline's history of one group's pipeline, read in one place.

Everything Greenlight reads back from CodePipeline goes through :class:`PipelineHistory`:
the executions (ListPipelineExecutions, newest first), what one execution carries
(GetPipelineExecution: its pipeline variables, trigger, type and rollback target, as
:class:`ExecutionFacts`), what its actions did (ListActionExecutions: the failure
summary, the Deploy action's output variables, who answered a manual approval), and
which versions succeeded in a stage (:class:`Deployment`), for the rollback rule in
``shared.rollback``; and whose approval a deployment went out on
(:func:`deployment_approval`, from the trigger's outcomes in the ledger).

One instance reads each thing once and keeps it: an execution's variables and trigger
never change, and its action executions are read once per instance. Make a new
instance to see actions that ran since (the recorder makes one per event). The only
read that is never kept is an execution's status (:meth:`PipelineHistory.status`).

History is kept 12 months by CodePipeline; the ledger keeps the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from shared import contract
from shared.ledger import OUTCOME_SKIPPED_STALE, OUTCOME_STARTED, Outcome

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient


def variables_of(execution: Mapping[str, Any]) -> dict[str, str]:
    """The resolved pipeline variables of a GetPipelineExecution ``pipelineExecution``."""
    return {str(v["name"]): str(v["resolvedValue"]) for v in execution.get("variables", [])}


def has_model_version(variables: Mapping[str, str]) -> bool:
    """True when the execution carries a model package ARN (not the variables' default)."""
    return contract.is_model_version(variables.get(contract.VAR_MODEL_PACKAGE_ARN, ""))


def version_number(text: str) -> int | None:
    """A ``ModelPackageVersion`` variable as a number; None for the default or garbage."""
    return int(text) if text.isdigit() and int(text) > 0 else None


def _how_started(execution: Mapping[str, Any]) -> dict[str, Any]:
    """What GetPipelineExecution and ListPipelineExecutions both say of how an execution
    started: its type, rollback target and trigger."""
    trigger = execution.get("trigger") or {}
    return {
        "execution_id": str(execution["pipelineExecutionId"]),
        "execution_type": str(execution.get("executionType", contract.EXECUTION_STANDARD)),
        "rollback_target": (execution.get("rollbackMetadata") or {}).get(
            "rollbackTargetPipelineExecutionId"
        ),
        "trigger_type": trigger.get("triggerType"),
        "trigger_detail": trigger.get("triggerDetail") or None,
    }


@dataclass(frozen=True, kw_only=True)
class _Started:
    execution_id: str
    #: STANDARD or ROLLBACK.
    execution_type: str
    #: For a ROLLBACK execution: the execution whose variables it runs with.
    rollback_target: str | None
    #: CodePipeline's trigger type (StartPipelineExecution, AutomatedRollback, ...).
    trigger_type: str | None
    #: CodePipeline's trigger detail: who called StartPipelineExecution or RollbackStage.
    trigger_detail: str | None

    @property
    def is_rollback(self) -> bool:
        return self.execution_type == contract.EXECUTION_ROLLBACK


@dataclass(frozen=True, kw_only=True)
class ExecutionSummary(_Started):
    """One execution as ListPipelineExecutions lists it (no variables)."""

    status: str
    started: datetime | None = None
    last_update: datetime | None = None
    #: Why it was stopped, when it was (its stop trigger's reason).
    stop_reason: str | None = None

    @classmethod
    def of(cls, summary: Mapping[str, Any]) -> ExecutionSummary:
        return cls(
            **_how_started(summary),
            status=str(summary.get("status", "")),
            started=summary.get("startTime"),
            last_update=summary.get("lastUpdateTime"),
            stop_reason=(summary.get("stopTrigger") or {}).get("reason") or None,
        )

    @property
    def running(self) -> bool:
        """InProgress, or Stopping after a stop-and-wait."""
        return self.status in contract.RUNNING_STATUSES


@dataclass(frozen=True, kw_only=True)
class ExecutionFacts(_Started):
    """What GetPipelineExecution says about one execution that never changes."""

    #: The model package version it deploys; None for an execution without one (pipeline
    #: creation, a "Release change" with the defaults, a rollback to one of those).
    arn: str | None
    version: int | None
    trigger_reason: str | None
    request_id: str | None
    pipeline_version: int

    @classmethod
    def of(cls, execution: Mapping[str, Any]) -> ExecutionFacts:
        """The facts of a GetPipelineExecution ``pipelineExecution``."""
        variables = variables_of(execution)
        return cls(
            **_how_started(execution),
            arn=variables[contract.VAR_MODEL_PACKAGE_ARN] if has_model_version(variables) else None,
            version=version_number(variables.get(contract.VAR_MODEL_PACKAGE_VERSION, "")),
            trigger_reason=variables.get(contract.VAR_TRIGGER_REASON),
            request_id=variables.get(contract.VAR_REQUEST_ID),
            pipeline_version=int(execution.get("pipelineVersion", 1)),
        )

    @property
    def deploys_nothing(self) -> bool:
        """No model version: its actions deploy nothing."""
        return self.arn is None


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """A version that succeeded in a stage, by the execution a rollback would target."""

    execution_id: str
    arn: str
    version: int | None
    pipeline_version: int


@dataclass
class PipelineHistory:
    """CodePipeline's history of one pipeline, read lazily and kept."""

    codepipeline: CodePipelineClient
    pipeline_name: str
    _summaries: list[ExecutionSummary] | None = None
    _executions: dict[str, dict[str, Any]] = field(default_factory=dict)
    _actions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _declared: dict[int, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    _version: int | None = None

    # --- executions -------------------------------------------------------------------

    def summaries(self) -> list[ExecutionSummary]:
        """Every execution, newest first."""
        if self._summaries is None:
            self._summaries = list(self.summaries_since(None))
        return self._summaries

    def summaries_since(self, since: datetime | None) -> Iterator[ExecutionSummary]:
        """The executions started at or after ``since`` (all when None), newest first,
        read page by page as the caller iterates and no further than ``since``."""
        paginator = self.codepipeline.get_paginator("list_pipeline_executions")
        for page in paginator.paginate(pipelineName=self.pipeline_name):
            older = False
            for summary in page["pipelineExecutionSummaries"]:
                start = summary.get("startTime")
                if since is not None and start is not None and start < since:
                    older = True
                    continue
                yield ExecutionSummary.of(summary)
            if older:
                return  # newest first: every later page is older still

    def _execution(self, execution_id: str) -> dict[str, Any]:
        """GetPipelineExecution's ``pipelineExecution``, read once."""
        if execution_id not in self._executions:
            self._executions[execution_id] = dict(
                self.codepipeline.get_pipeline_execution(
                    pipelineName=self.pipeline_name, pipelineExecutionId=execution_id
                )["pipelineExecution"]
            )
        return self._executions[execution_id]

    def facts(self, execution_id: str) -> ExecutionFacts:
        return ExecutionFacts.of(self._execution(execution_id))

    def status(self, execution_id: str) -> str:
        """The execution's status now (read every time: it changes)."""
        execution = self.codepipeline.get_pipeline_execution(
            pipelineName=self.pipeline_name, pipelineExecutionId=execution_id
        )["pipelineExecution"]
        return str(execution["status"])

    def stop_reason(self, execution_id: str) -> str:
        """Why the execution was stopped (its stop trigger's reason), or ``stopped``."""
        for summary in self.summaries_since(None):
            if summary.execution_id == execution_id:
                return summary.stop_reason or "stopped"
        return "stopped"

    # --- actions ----------------------------------------------------------------------

    def actions(self, execution_id: str) -> list[dict[str, Any]]:
        """The execution's action executions, newest first, read once."""
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

    def touched(self, execution_id: str, stage: str) -> bool:
        return any(a["stageName"] == stage for a in self.actions(execution_id))

    def failure_summary(self, execution_id: str, stage: str) -> str:
        """``<action> failed: <its summary>`` for the stage's failed action."""
        failed = [
            a
            for a in self.actions(execution_id)
            if a.get("stageName") == stage and a.get("status") == contract.STATUS_FAILED
        ]
        if not failed:
            return f"stage {stage} failed (no failed action reported)"
        action = failed[0]
        result = (action.get("output") or {}).get("executionResult", {})
        summary = result.get("externalExecutionSummary") or "no summary"
        return f"{action['actionName']} failed: {summary}"

    def output_variables(self, execution_id: str, stage: str, action: str) -> dict[str, str]:
        """The output variables the stage's ``action`` reported (none when it did not)."""
        for detail in self.actions(execution_id):
            if detail.get("stageName") == stage and detail.get("actionName") == action:
                return dict((detail.get("output") or {}).get("outputVariables") or {})
        return {}

    def answered_by(self, execution_id: str, stage: str, action: str) -> str | None:
        """Who answered the manual approval ``action`` in ``stage`` (its ``updatedBy``)."""
        return next(
            (
                a.get("updatedBy")
                for a in self.actions(execution_id)
                if a.get("stageName") == stage and a.get("actionName") == action
            ),
            None,
        )

    def approval_answers(self, execution_id: str) -> dict[str, str]:
        """Deployment stage -> who approved the manual approval in front of it."""
        answers: dict[str, str] = {}
        for action in self.actions(execution_id):
            category = action.get("input", {}).get("actionTypeId", {}).get("category")
            stage = contract.stage_after_approval(action.get("stageName", ""))
            who = action.get("updatedBy")
            succeeded = action.get("status") == contract.STATUS_SUCCEEDED
            if category == contract.CATEGORY_APPROVAL and succeeded and who:
                answers.setdefault(stage, who)
        return answers

    # --- what succeeded where -----------------------------------------------------------

    def declared_actions(self, version: int, stage: str) -> tuple[str, ...]:
        if version not in self._declared:
            pipeline = self.codepipeline.get_pipeline(name=self.pipeline_name, version=version)
            self._declared[version] = {
                s["name"]: tuple(a["name"] for a in s["actions"])
                for s in pipeline["pipeline"]["stages"]
            }
        return self._declared[version].get(stage, ())

    def current_version(self) -> int:
        if self._version is None:
            pipeline = self.codepipeline.get_pipeline(name=self.pipeline_name)["pipeline"]
            self._version = int(pipeline.get("version", 1))
        return self._version

    def stage_succeeded(self, execution_id: str, stage: str) -> bool:
        """Every action the stage declared (in the execution's structure version) ended
        Succeeded in its latest attempt."""
        declared = self.declared_actions(self.facts(execution_id).pipeline_version, stage)
        latest: dict[str, str] = {}
        for action in self.actions(execution_id):  # newest first
            if action["stageName"] == stage:
                latest.setdefault(str(action["actionName"]), str(action["status"]))
        return bool(declared) and all(
            latest.get(name) == contract.STATUS_SUCCEEDED for name in declared
        )

    def succeeded_in(self, stage: str) -> Iterator[ExecutionSummary]:
        """Executions that succeeded in ``stage``, newest first (rollbacks included), of
        every structure version: ListPipelineExecutions' ``succeededInStage`` filter lists
        the current version's only, so success is read from the actions each one ran."""
        for summary in self.summaries():
            if self.stage_succeeded(summary.execution_id, stage):
                yield summary

    def deployments(self, stage: str) -> Iterator[Deployment]:
        """The versions that succeeded in ``stage``, newest first; the first is live."""
        for summary in self.succeeded_in(stage):
            target_id = summary.execution_id
            if summary.is_rollback:
                target_id = summary.rollback_target or target_id
            facts = self.facts(target_id)
            if facts.arn is None:
                continue
            yield Deployment(
                execution_id=target_id,
                arn=facts.arn,
                version=facts.version,
                pipeline_version=facts.pipeline_version,
            )

    def live(self, stage: str) -> Deployment | None:
        return next(self.deployments(stage), None)

    def target(self, stage: str, accept: Callable[[Deployment], bool]) -> Deployment | None:
        """The newest deployment in ``stage`` that ``accept`` takes."""
        return next((d for d in self.deployments(stage) if accept(d)), None)


# --- whose approval a deployment went out on ---------------------------------------------

#: Outcomes of an approval the trigger accepted: it started a deployment, or it was real
#: but a newer approval of the group had already been acted on.
_ACCEPTED: Final = (OUTCOME_STARTED, OUTCOME_SKIPPED_STALE)


def deployment_approval(
    outcomes: Iterable[Outcome],
    *,
    arn: str,
    request_id: str | None,
    execution_type: str,
    started_at: datetime | None,
) -> Outcome | None:
    """The approval a deployment of ``arn`` went out on: the one whose event started the
    execution; for an execution no approval started (a redeploy, a rollback of any kind,
    a console release), the latest approval of ``arn`` the trigger acted on before the
    execution started, the one in force when it went live. None when the ledger holds none.

    A ROLLBACK execution runs with its target's variables, so its ``RequestId`` names the
    approval that started the target, which a rejection may have revoked since: it is
    never taken as the approval that started the rollback.
    """
    approvals = sorted(
        (
            outcome
            for outcome in outcomes
            if outcome.model_package_arn == arn
            and outcome.trigger_reason == contract.REASON_APPROVAL
            and outcome.outcome in _ACCEPTED
        ),
        key=lambda outcome: outcome.recorded_at,
    )
    if execution_type != contract.EXECUTION_ROLLBACK:
        started_it = next((o for o in approvals if o.event_id == request_id), None)
        if started_it is not None:
            return started_it
    if started_at is not None:
        approvals = [o for o in approvals if o.recorded_at <= started_at]
    return approvals[-1] if approvals else None
