"""Runs pipeline executions the way CodePipeline does, on the emulated CodePipeline state.

What it follows from CodePipeline (user guide, "How pipeline executions work",
"Stage rollback", "Invoke a Lambda function in a pipeline", "Manual approvals"):

- Stages run in order; within a stage, actions run by ``runOrder``. A stage is locked
  while an execution runs in it: a later execution waits at the inbound transition.
- SUPERSEDED: when an execution arrives at a transition where an older one is already
  waiting, the older one is superseded (it stops there, status ``Superseded``).
- Lambda invoke actions get a job event with ``UserParameters`` in which pipeline
  variables (``#{variables.NAME}``) and earlier actions' output variables
  (``#{namespace.NAME}``) are resolved (``references``); jobs, continuations, Lambda's
  retries and CodePipeline's timeouts are ``lambda_actions`` (docs/aws-behaviour.md,
  CodePipeline and Time).
- Manual approval actions wait for PutApprovalResult with the token GetPipelineState
  shows for them (``approvals``); a rejection fails the action. The action records who
  answered (``updatedBy``: the caller's identity ARN).
- An execution does not enter a stage while the transition into it is disabled
  (DisableStageTransition); it waits there as at a locked stage.
- A failed action fails its stage and the execution. A stage declared with
  ``OnFailure: ROLLBACK`` is then rolled back: a new execution of type ROLLBACK re-runs
  that stage alone with the variables of the last execution that succeeded in it.
- Execution, stage and action state changes are handed to ``on_transition``
  (``changes``): the sandbox puts them on the bus as CodePipeline's EventBridge events,
  so rules in the template (the recorder's) see them.

The engine runs every pipeline the emulated CodePipeline holds; the functions it invokes
are the sandbox's ``LambdaRuntime``, or a test's stand-ins (``Functions``).

Not followed: artifacts beyond the source bundle, retries of stages, and Lambda's retry
of an invocation that failed after it had answered its job (the retry's answer would be
refused with InvalidJobStateException).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import (
    FAILED,
    IN_PROGRESS,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    SUPERSEDED,
    EmulatedCodePipeline,
    Pipeline,
    PipelineExecution,
)
from pipeline_scripts.emulation.codepipeline_model import stage_status
from pipeline_scripts.emulation.jobs import Artifact, EmulatedJobs
from pipeline_scripts.sandbox.approvals import ManualApprovals
from pipeline_scripts.sandbox.changes import Change, Transition
from pipeline_scripts.sandbox.lambda_actions import (
    REINVOKE_SECONDS,
    ActionKey,
    ActionOutcome,
    Functions,
    LambdaActions,
)
from pipeline_scripts.sandbox.references import resolve_references

#: The identity ARN of the caller of the API call being served, if known.
Identity = Callable[[], str | None]

#: The execution states CodePipeline's events name for an execution's end.
_END_STATES = {
    SUCCEEDED: "SUCCEEDED",
    FAILED: "FAILED",
    STOPPED: "STOPPED",
    SUPERSEDED: "SUPERSEDED",
}


@dataclass
class _Progress:
    """Where the engine is with one execution."""

    announced: bool = False
    waiting_for: str | None = None
    finished: set[str] = field(default_factory=set)


class PipelineEngine:
    def __init__(
        self,
        *,
        codepipeline: EmulatedCodePipeline,
        jobs: EmulatedJobs,
        functions: Functions,
        clock: VirtualClock,
        bundles: Mapping[str, Artifact],
        on_transition: Transition | None = None,
        poll_seconds: float = REINVOKE_SECONDS,
        identity: Identity | None = None,
    ) -> None:
        self.codepipeline = codepipeline
        self.clock = clock
        self.bundles = dict(bundles)
        self.lambdas = LambdaActions(
            jobs=jobs, functions=functions, clock=clock, poll_seconds=poll_seconds
        )
        self.approvals = ManualApprovals()
        self._on_transition = on_transition
        self._identity = identity
        self._progress: dict[str, _Progress] = {}

    def add_pipeline(self, declaration: Mapping[str, Any]) -> None:
        """Create the pipeline as CloudFormation does (CreatePipeline): CodePipeline then
        starts its first execution by itself, with the variables' defaults."""
        self.codepipeline.create_pipeline(pipeline=declaration)

    # --- driving ---------------------------------------------------------------------

    def step(self) -> bool:
        """Advance every execution as far as it can go now; True if anything moved."""
        moved = False
        for name in self.codepipeline.pipeline_names():
            pipeline = self.codepipeline.pipeline_record(name)
            for execution in list(pipeline.executions):
                if execution.status in (IN_PROGRESS, STOPPING):
                    moved |= self._advance(pipeline, execution)
                else:
                    moved |= self._close(execution)
        return moved

    def next_due(self) -> datetime | None:
        """When an action is next due: a (re-)invocation, or a timeout."""
        return self.lambdas.next_due()

    # --- the API calls the engine serves -------------------------------------------------

    def put_approval_result(self, **params: Any) -> dict[str, Any]:
        """PutApprovalResult: the answer ends the waiting approval action."""
        answer = self.approvals.answer(**params)
        self._finish_action(
            (answer.execution_id, answer.stage, answer.action),
            ActionOutcome(status=SUCCEEDED if answer.approved else FAILED, summary=answer.summary),
            updated_by=None if self._identity is None else self._identity(),
        )
        return {"approvedAt": self.clock.now()}

    def get_pipeline_state(self, *, name: str) -> dict[str, Any]:
        """GetPipelineState, with the approval tokens of waiting manual approvals."""
        state = self.codepipeline.get_pipeline_state(name=name)
        self.approvals.show_tokens(state)
        return state

    # --- one execution --------------------------------------------------------------------

    def _advance(self, pipeline: Pipeline, execution: PipelineExecution) -> bool:
        progress = self._progress.setdefault(execution.pipeline_execution_id, _Progress())
        moved = False
        if not progress.announced:
            progress.announced = True
            self._emit("execution", execution, state="STARTED")
            moved = True
        if "execution" in progress.finished:
            # RetryStageExecution ran a failed stage again: the execution is back in progress.
            progress.finished.discard("execution")
            self._emit("execution", execution, state="RESUMED")
            moved = True
        stages = (
            [execution.rollback_stage]
            if execution.rollback_stage is not None
            else pipeline.stage_names
        )
        current = next((s for s in stages if stage_status(execution, s) != SUCCEEDED), None)
        if current is None:
            self.codepipeline.finish_execution(execution.pipeline_execution_id, SUCCEEDED)
            return True
        if execution.status == STOPPING:
            return self._run_stage(pipeline, execution, current) or moved
        if current not in execution.stages:
            if not self._enter(pipeline, execution, current):
                return moved
            moved = True
        return self._run_stage(pipeline, execution, current) or moved

    def _enter(self, pipeline: Pipeline, execution: PipelineExecution, stage: str) -> bool:
        """Enter ``stage`` if it is free; otherwise wait at its transition (superseding an
        older execution that was already waiting there)."""
        progress = self._progress[execution.pipeline_execution_id]
        holder = next(
            (
                other
                for other in pipeline.executions
                if other is not execution and stage_status(other, stage) == IN_PROGRESS
            ),
            None,
        )
        if holder is None and self.codepipeline.may_enter(pipeline.name, stage):
            progress.waiting_for = None
            self._emit("stage", execution, stage=stage, state="STARTED")
            return True
        if progress.waiting_for != stage:
            progress.waiting_for = stage
            self._supersede_waiting(pipeline, execution, stage)
        return False

    def _supersede_waiting(
        self, pipeline: Pipeline, execution: PipelineExecution, stage: str
    ) -> None:
        """``execution`` arrived at ``stage``'s transition: an older execution waiting
        there is superseded."""
        for other in pipeline.executions:
            if other is execution or other.status != IN_PROGRESS:
                continue
            waiting = self._progress.get(other.pipeline_execution_id)
            if (
                waiting is not None
                and waiting.waiting_for == stage
                and other.start_time <= execution.start_time
            ):
                waiting.waiting_for = None
                self.codepipeline.finish_execution(
                    other.pipeline_execution_id,
                    SUPERSEDED,
                    summary=f"Superseded by {execution.pipeline_execution_id} at {stage}",
                )

    def _run_stage(self, pipeline: Pipeline, execution: PipelineExecution, stage: str) -> bool:
        """Begin or poll the actions of the stage's first run order that is not done."""
        declared = pipeline.stage(stage) or {"actions": []}
        record = execution.stages.get(stage)
        ran = record.actions if record is not None else {}
        orders = sorted({int(a.get("runOrder", 1)) for a in declared["actions"]})
        moved = False
        for order in orders:
            group = [a for a in declared["actions"] if int(a.get("runOrder", 1)) == order]
            if all(a["name"] in ran and ran[a["name"]].status == SUCCEEDED for a in group):
                continue
            for action in group:
                if action["name"] not in ran:
                    if execution.status == STOPPING:
                        continue
                    self._begin(pipeline, execution, stage, action)
                    moved = True
                elif ran[action["name"]].status == IN_PROGRESS:
                    moved |= self._poll(execution.pipeline_execution_id, stage, action["name"])
            break
        return moved

    def _begin(
        self,
        pipeline: Pipeline,
        execution: PipelineExecution,
        stage: str,
        action: Mapping[str, Any],
    ) -> None:
        execution_id, name = execution.pipeline_execution_id, action["name"]
        configuration = {
            key: resolve_references(str(value), execution, pipeline)
            for key, value in action.get("configuration", {}).items()
        }
        self.codepipeline.begin_action(execution_id, stage, name, configuration=configuration)
        self._emit("action", execution, stage=stage, action=name, state="STARTED")
        category = action["actionTypeId"]["category"]
        provider = action["actionTypeId"]["provider"]
        key = (execution_id, stage, name)
        bundle = self.bundles.get(pipeline.name)
        if category == "Source":
            summary = f"s3://{bundle.bucket}/{bundle.key}" if bundle else "source"
            self._finish_action(key, ActionOutcome(status=SUCCEEDED, summary=summary))
        elif category == "Approval":
            self.approvals.request(key, pipeline=pipeline.name)
        elif category == "Invoke" and provider == "Lambda":
            self.lambdas.begin(
                key,
                function=configuration["FunctionName"],
                user_parameters=configuration.get("UserParameters", ""),
                artifacts=tuple(bundle for _ in action.get("inputArtifacts", []) if bundle),
            )
        else:
            summary = f"the sandbox cannot run {category}/{provider} actions"
            self._finish_action(key, ActionOutcome(status=FAILED, summary=summary))

    def _poll(self, execution_id: str, stage: str, action: str) -> bool:
        key = (execution_id, stage, action)
        moved, outcome = self.lambdas.poll(key)
        if outcome is not None:
            self._finish_action(key, outcome)
        return moved

    def _finish_action(
        self, key: ActionKey, outcome: ActionOutcome, *, updated_by: str | None = None
    ) -> None:
        """End the action with ``outcome``; publish it, and its stage's end if it came
        (a failed stage then rolls back when it is declared to)."""
        execution_id, stage, action = key
        self.codepipeline.finish_action(
            execution_id,
            stage,
            action,
            outcome.status,
            summary=outcome.summary,
            output_variables=outcome.output_variables,
            updated_by=updated_by,
        )
        execution = self.codepipeline.execution_record(execution_id)
        self._emit(
            "action",
            execution,
            stage=stage,
            action=action,
            state="SUCCEEDED" if outcome.status == SUCCEEDED else "FAILED",
            summary=outcome.summary,
        )
        now = stage_status(execution, stage)
        if now == SUCCEEDED:
            self._emit("stage", execution, stage=stage, state="SUCCEEDED")
        elif now == FAILED:
            self._emit("stage", execution, stage=stage, state="FAILED", summary=outcome.summary)
            self._roll_back_on_failure(execution, stage)

    def _roll_back_on_failure(self, execution: PipelineExecution, stage: str) -> None:
        pipeline = self.codepipeline.pipeline_record(execution.pipeline_name)
        on_failure = (pipeline.stage(stage) or {}).get("onFailure") or {}
        if on_failure.get("result") != "ROLLBACK" or execution.execution_type == "ROLLBACK":
            return
        self.codepipeline.start_automated_rollback(
            pipeline_name=execution.pipeline_name, stage_name=stage
        )

    def _close(self, execution: PipelineExecution) -> bool:
        """Publish an execution's end once, and drop what it left running."""
        progress = self._progress.setdefault(execution.pipeline_execution_id, _Progress())
        if "execution" in progress.finished:
            return False
        progress.finished.add("execution")
        self.lambdas.drop(execution.pipeline_execution_id)
        self.approvals.drop(execution.pipeline_execution_id)
        if not progress.announced:
            progress.announced = True
            self._emit("execution", execution, state="STARTED")
        state = _END_STATES.get(execution.status, execution.status.upper())
        self._emit("execution", execution, state=state, summary=execution.status_summary)
        return True

    # --- helpers ------------------------------------------------------------------------

    def _emit(
        self,
        kind: str,
        execution: PipelineExecution,
        *,
        state: str,
        stage: str | None = None,
        action: str | None = None,
        summary: str | None = None,
    ) -> None:
        if self._on_transition is None:
            return
        declared = None
        if stage is not None and action is not None:
            pipeline = self.codepipeline.pipeline_record(execution.pipeline_name)
            declared = pipeline.action(stage, action)
        self._on_transition(
            kind,
            Change(
                execution=execution,
                state=state,
                stage=stage,
                action=action,
                action_type=None if declared is None else dict(declared["actionTypeId"]),
                summary=summary,
                at=self.clock.now(),
            ),
        )
