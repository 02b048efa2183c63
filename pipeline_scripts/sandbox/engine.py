"""Runs pipeline executions the way CodePipeline does, on the emulated CodePipeline state.

What it follows from CodePipeline (user guide, "How pipeline executions work",
"Stage rollback", "Invoke a Lambda function in a pipeline", "Manual approvals"):

- Stages run in order; within a stage, actions run by ``runOrder``. A stage is locked
  while an execution runs in it: a later execution waits at the inbound transition.
- SUPERSEDED: when an execution arrives at a transition where an older one is already
  waiting, the older one is superseded (it stops there, status ``Superseded``).
- Lambda invoke actions get a job event with ``UserParameters`` in which pipeline
  variables (``#{variables.NAME}``) and earlier actions' output variables
  (``#{namespace.NAME}``) are resolved; the function answers with PutJobSuccessResult
  (a continuation token means "invoke me again") or PutJobFailureResult. Re-invocations
  come ``poll_seconds`` of virtual time later (30 s by default: how soon CodePipeline
  re-invokes after a continuation is not documented).
- Lambda invoke actions are timed as CodePipeline times them (docs/aws-behaviour.md,
  CodePipeline and Time): a job with no result 20 minutes after its invocation fails the
  action as timed out, each continuation starts a new job and so a new 20 minutes, and
  an action may run 24 hours in all. CodePipeline invokes the function asynchronously,
  so an invocation that raised or was killed at its timeout without answering gets
  Lambda's retries (the same job, 1 and then 2 minutes later) within those 20 minutes.
- Manual approval actions wait for PutApprovalResult with the token GetPipelineState
  shows for them; a rejection fails the action. The action records who answered
  (``updatedBy``: the caller's identity ARN).
- An execution does not enter a stage while the transition into it is disabled
  (DisableStageTransition); it waits there as at a locked stage.
- A failed action fails its stage and the execution. A stage declared with
  ``OnFailure: ROLLBACK`` is then rolled back: a new execution of type ROLLBACK re-runs
  that stage alone with the variables of the last execution that succeeded in it.
- Execution, stage and action state changes are published as CodePipeline's
  EventBridge events, so rules in the template (the recorder's) see them.

Not followed: artifacts beyond the source bundle, retries of stages, and Lambda's retry
of an invocation that failed after it had answered its job (the retry's answer would be
refused with InvalidJobStateException).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    client_error,
)
from pipeline_scripts.emulation.jobs import Artifact, EmulatedJobs, job_event
from pipeline_scripts.sandbox.runtime import LambdaRuntime

#: CodePipeline fails a Lambda invoke job that has no result this long after its
#: invocation; a Lambda invoke action may run this long in all (CodePipeline quotas).
JOB_RESULT_TIMEOUT = timedelta(minutes=20)
ACTION_TIMEOUT = timedelta(hours=24)
#: How soon the engine invokes the function again after a continuation token. Not
#: documented by CodePipeline; 30 s is the sandbox's model.
REINVOKE_SECONDS = 30.0


@dataclass(frozen=True)
class Change:
    """A state change of an execution, one of its stages, or one of its actions."""

    execution: PipelineExecution
    state: str
    at: datetime
    stage: str | None = None
    action: str | None = None
    action_type: dict[str, str] | None = None
    summary: str | None = None


#: Called with the kind ("execution", "stage" or "action") and the change.
Transition = Callable[[str, Change], None]
#: The identity ARN of the caller of the API call being served.
Identity = Callable[[], str]

_REFERENCE = re.compile(r"#\{([A-Za-z0-9@_-]+)\.([A-Za-z0-9@_-]+)\}")
ApprovalKey = tuple[str, str, str]


@dataclass
class _Job:
    """A Lambda invoke action in progress, and the CodePipeline job it is waiting on."""

    function: str
    user_parameters: str
    artifacts: tuple[Artifact, ...]
    #: When the action began: it may run ACTION_TIMEOUT in all.
    started: datetime
    #: When the function is next invoked (a new job, or Lambda's retry of the current
    #: one); None while CodePipeline only waits for the current job's result.
    due: datetime | None
    continuation_token: str | None = None
    #: The current job: its id, its event, and when CodePipeline gives up on it.
    job_id: str | None = None
    event: dict[str, Any] = field(default_factory=dict)
    reply_by: datetime | None = None
    #: Lambda's waits before the retries the current job has left.
    retries: list[float] = field(default_factory=list)

    def deadline(self) -> datetime:
        """When the action times out if nothing answers first."""
        limit = self.started + ACTION_TIMEOUT
        return limit if self.reply_by is None else min(self.reply_by, limit)

    def next_due(self) -> datetime:
        return self.deadline() if self.due is None else min(self.due, self.deadline())


@dataclass
class _Approval:
    token: str
    pipeline: str
    stage: str
    action: str
    requested: datetime


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
        runtime: LambdaRuntime,
        clock: VirtualClock,
        bundles: Mapping[str, Artifact],
        on_transition: Transition | None = None,
        poll_seconds: float = REINVOKE_SECONDS,
        identity: Identity | None = None,
    ) -> None:
        self.codepipeline = codepipeline
        self.jobs = jobs
        self.runtime = runtime
        self.clock = clock
        self.bundles = dict(bundles)
        self.poll = timedelta(seconds=poll_seconds)
        self._on_transition = on_transition
        self._identity = identity
        self._jobs: dict[tuple[str, str, str], _Job] = {}
        self._approvals: dict[tuple[str, str, str], _Approval] = {}
        self._progress: dict[str, _Progress] = {}
        self._pipelines: list[str] = []

    def add_pipeline(self, declaration: Mapping[str, Any]) -> None:
        """Create the pipeline as CloudFormation does (CreatePipeline): CodePipeline then
        starts its first execution by itself, with the variables' defaults."""
        self.codepipeline.create_pipeline(pipeline=declaration)
        self._pipelines.append(str(declaration["name"]))

    # --- driving ---------------------------------------------------------------------

    def step(self) -> bool:
        """Advance every execution as far as it can go now; True if anything moved."""
        moved = False
        for name in self._pipelines:
            pipeline = self.codepipeline.pipeline_record(name)
            for execution in list(pipeline.executions):
                if execution.status in (IN_PROGRESS, STOPPING):
                    moved |= self._advance(pipeline, execution)
                else:
                    moved |= self._close(execution)
        return moved

    def next_due(self) -> datetime | None:
        """When an action is next due: a (re-)invocation, or a timeout."""
        return min((job.next_due() for job in self._jobs.values()), default=None)

    def pending_approvals(self) -> list[_Approval]:
        return list(self._approvals.values())

    def busy(self) -> bool:
        return bool(self._jobs)

    # --- the API calls the engine serves -------------------------------------------------

    def put_approval_result(
        self,
        *,
        pipelineName: str,
        stageName: str,
        actionName: str,
        result: Mapping[str, str],
        token: str,
    ) -> dict[str, Any]:
        operation = "PutApprovalResult"
        for key, approval in list(self._approvals.items()):
            if (approval.pipeline, approval.stage, approval.action) != (
                pipelineName,
                stageName,
                actionName,
            ):
                continue
            if approval.token != token:
                continue
            execution_id = key[0]
            status = result.get("status")
            if status not in ("Approved", "Rejected"):
                raise client_error(operation, "ValidationException", f"result.status {status!r}")
            del self._approvals[key]
            summary = result.get("summary") or status
            self._finish_action(
                execution_id,
                stageName,
                actionName,
                SUCCEEDED if status == "Approved" else FAILED,
                summary=f"{status}: {summary}",
                updated_by=None if self._identity is None else self._identity(),
            )
            return {"approvedAt": self.clock.now()}
        raise client_error(
            operation,
            "InvalidApprovalTokenException",
            f"The token is not valid for {pipelineName}/{stageName}/{actionName}",
        )

    def get_pipeline_state(self, *, name: str) -> dict[str, Any]:
        """GetPipelineState, with the approval tokens of waiting manual approvals."""
        state = self.codepipeline.get_pipeline_state(name=name)
        for stage in state["stageStates"]:
            for action in stage["actionStates"]:
                for (_, stage_name, action_name), approval in self._approvals.items():
                    if approval.pipeline != name:
                        continue
                    if (stage_name, action_name) == (stage["stageName"], action["actionName"]):
                        action.setdefault("latestExecution", {})["token"] = approval.token
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
            else [stage["name"] for stage in pipeline.declaration["stages"]]
        )
        current = next(
            (s for s in stages if _stage_status(execution, s) != SUCCEEDED),
            None,
        )
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
                if other is not execution and _stage_status(other, stage) == IN_PROGRESS
            ),
            None,
        )
        if holder is None and self.codepipeline.may_enter(pipeline.name, stage):
            progress.waiting_for = None
            self._emit("stage", execution, stage=stage, state="STARTED")
            return True
        if progress.waiting_for != stage:
            progress.waiting_for = stage
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
        return False

    def _run_stage(self, pipeline: Pipeline, execution: PipelineExecution, stage: str) -> bool:
        declared = next(s for s in pipeline.declaration["stages"] if s["name"] == stage)
        execution_id = execution.pipeline_execution_id
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
                    moved |= self._poll(execution_id, stage, action)
            break
        return moved

    def _begin(
        self,
        pipeline: Pipeline,
        execution: PipelineExecution,
        stage: str,
        action: Mapping[str, Any],
    ) -> None:
        execution_id = execution.pipeline_execution_id
        configuration = {
            key: self._resolve(str(value), execution)
            for key, value in action.get("configuration", {}).items()
        }
        self.codepipeline.begin_action(
            execution_id, stage, action["name"], configuration=configuration
        )
        self._emit("action", execution, stage=stage, action=action["name"], state="STARTED")
        category = action["actionTypeId"]["category"]
        provider = action["actionTypeId"]["provider"]
        key = (execution_id, stage, action["name"])
        if category == "Source":
            bundle = self.bundles.get(pipeline.name)
            summary = f"s3://{bundle.bucket}/{bundle.key}" if bundle else "source"
            self._finish_action(execution_id, stage, action["name"], SUCCEEDED, summary=summary)
        elif category == "Approval":
            self._approvals[key] = _Approval(
                token=str(uuid.uuid4()),
                pipeline=pipeline.name,
                stage=stage,
                action=action["name"],
                requested=self.clock.now(),
            )
        elif category == "Invoke" and provider == "Lambda":
            artifacts = tuple(
                self.bundles[pipeline.name]
                for _ in action.get("inputArtifacts", [])
                if pipeline.name in self.bundles
            )
            self._jobs[key] = _Job(
                function=configuration["FunctionName"],
                user_parameters=configuration.get("UserParameters", ""),
                artifacts=artifacts,
                started=self.clock.now(),
                due=self.clock.now(),
            )
        else:
            self._finish_action(
                execution_id,
                stage,
                action["name"],
                FAILED,
                summary=f"the sandbox cannot run {category}/{provider} actions",
            )

    def _poll(self, execution_id: str, stage: str, action: Mapping[str, Any]) -> bool:
        key = (execution_id, stage, action["name"])
        job = self._jobs.get(key)
        if job is None:
            return False
        now = self.clock.now()
        if job.due is not None and job.due <= now < job.deadline():
            return self._invoke(key, job)
        if now >= job.deadline():
            del self._jobs[key]
            self._finish_action(execution_id, stage, action["name"], FAILED, summary=_timeout(job))
            return True
        return False

    def _invoke(self, key: tuple[str, str, str], job: _Job) -> bool:
        """Invoke the function with the current job (a retry) or a new one."""
        if job.job_id is None:
            job.job_id = self.jobs.open_job()
            job.event = job_event(
                job_id=job.job_id,
                user_parameters=job.user_parameters,
                function_name=job.function,
                input_artifacts=job.artifacts,
                continuation_token=job.continuation_token,
            )
            job.reply_by = self.clock.now() + JOB_RESULT_TIMEOUT
            job.retries = list(self.runtime.retry_waits(job.function))
        job.due = None
        try:
            self.runtime.invoke(job.function, job.event)
        except Exception:  # a function error or a timeout: Lambda retries it
            failed = True
        else:
            failed = False
        answer = self.jobs.answers.get(job.job_id)
        if answer is None:
            if failed and job.retries:
                job.due = self.clock.now() + timedelta(seconds=job.retries.pop(0))
            return True
        execution_id, stage, action = key
        if answer.status == "InProgress":
            job.continuation_token = answer.continuation_token
            job.job_id, job.reply_by, job.due = None, None, self.clock.now() + self.poll
            return True
        del self._jobs[key]
        if answer.status == SUCCEEDED:
            self._finish_action(
                execution_id,
                stage,
                action,
                SUCCEEDED,
                summary=answer.summary,
                output_variables=answer.output_variables,
            )
        else:
            self._finish_action(
                execution_id, stage, action, FAILED, summary=answer.message or "failed"
            )
        return True

    def _finish_action(
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
        self.codepipeline.finish_action(
            execution_id,
            stage,
            action,
            status,
            summary=summary,
            output_variables=output_variables,
            updated_by=updated_by,
        )
        execution = self.codepipeline.execution_record(execution_id)
        self._emit(
            "action",
            execution,
            stage=stage,
            action=action,
            state="SUCCEEDED" if status == SUCCEEDED else "FAILED",
            summary=summary,
        )
        stage_status = _stage_status(execution, stage)
        if stage_status == SUCCEEDED:
            self._emit("stage", execution, stage=stage, state="SUCCEEDED")
        elif stage_status == FAILED:
            self._emit("stage", execution, stage=stage, state="FAILED", summary=summary)
            self._roll_back_on_failure(execution, stage)

    def _roll_back_on_failure(self, execution: PipelineExecution, stage: str) -> None:
        pipeline = self.codepipeline.pipeline_record(execution.pipeline_name)
        declared = next(s for s in pipeline.declaration["stages"] if s["name"] == stage)
        on_failure = declared.get("onFailure") or {}
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
        for key in [k for k in self._jobs if k[0] == execution.pipeline_execution_id]:
            del self._jobs[key]
        for key in [k for k in self._approvals if k[0] == execution.pipeline_execution_id]:
            del self._approvals[key]
        if not progress.announced:
            progress.announced = True
            self._emit("execution", execution, state="STARTED")
        state = {
            SUCCEEDED: "SUCCEEDED",
            FAILED: "FAILED",
            STOPPED: "STOPPED",
            SUPERSEDED: "SUPERSEDED",
        }.get(execution.status, execution.status.upper())
        self._emit("execution", execution, state=state, summary=execution.status_summary)
        return True

    # --- helpers ------------------------------------------------------------------------

    def _resolve(self, text: str, execution: PipelineExecution) -> str:
        def replace(match: re.Match[str]) -> str:
            namespace, name = match.groups()
            if namespace == "variables":
                return execution.variables.get(name, match.group(0))
            for stage in execution.stages.values():
                for action in stage.actions.values():
                    declared = self._declared_action(execution, stage.stage_name, action)
                    if declared.get("namespace") == namespace:
                        return action.output_variables.get(name, match.group(0))
            return match.group(0)

        return _REFERENCE.sub(replace, text)

    def _declared_action(
        self, execution: PipelineExecution, stage: str, action: Any
    ) -> Mapping[str, Any]:
        pipeline = self.codepipeline.pipeline_record(execution.pipeline_name)
        for declared_stage in pipeline.declaration["stages"]:
            if declared_stage["name"] != stage:
                continue
            for declared in declared_stage["actions"]:
                if declared["name"] == action.action_name:
                    return dict(declared)
        return {}

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
        self._on_transition(
            kind,
            Change(
                execution=execution,
                state=state,
                stage=stage,
                action=action,
                action_type=self._action_type(execution, stage, action),
                summary=summary,
                at=self.clock.now(),
            ),
        )

    def _action_type(
        self, execution: PipelineExecution, stage: str | None, action: str | None
    ) -> dict[str, str] | None:
        if stage is None or action is None:
            return None
        pipeline = self.codepipeline.pipeline_record(execution.pipeline_name)
        for declared_stage in pipeline.declaration["stages"]:
            for declared in declared_stage["actions"] if declared_stage["name"] == stage else []:
                if declared["name"] == action:
                    return dict(declared["actionTypeId"])
        return None


def _timeout(job: _Job) -> str:
    """The failure summary of an action CodePipeline timed out."""
    if job.reply_by is not None and job.reply_by <= job.started + ACTION_TIMEOUT:
        minutes = int(JOB_RESULT_TIMEOUT.total_seconds() // 60)
        return f"The action timed out: {job.function} sent no job result within {minutes} minutes"
    hours = int(ACTION_TIMEOUT.total_seconds() // 3600)
    return f"The action timed out: it ran longer than the {hours}-hour limit"


def _stage_status(execution: PipelineExecution, stage: str) -> str | None:
    record = execution.stages.get(stage)
    return None if record is None else record.status
