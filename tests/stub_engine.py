"""The sandbox's ``PipelineEngine`` for the test worlds, with stub functions.

The emulated CodePipeline's executions run in CodePipeline's order — stages, run
orders, stage locks, supersede, approvals, OnFailure rollback — by the one engine the
sandbox runs; only each Lambda invoke action's function is replaced by a small callable
that answers its job. By default every function succeeds with no output variables.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import (
    EXECUTION_DONE,
    IN_PROGRESS,
    EmulatedCodePipeline,
    PipelineExecution,
)
from pipeline_scripts.emulation.jobs import EmulatedJobs
from pipeline_scripts.sandbox.changes import Transition
from pipeline_scripts.sandbox.engine import Identity, PipelineEngine


@dataclass(frozen=True)
class StubJob:
    """One invocation of a stubbed function: the action it serves and its job."""

    jobs: EmulatedJobs
    job_id: str
    execution_id: str
    stage: str
    action: str
    #: The action's ``UserParameters``, as JSON, resolved.
    parameters: dict[str, Any] = field(default_factory=dict)

    def succeed(self, outputs: Mapping[str, str] | None = None) -> None:
        self.jobs.put_job_success_result(jobId=self.job_id, outputVariables=dict(outputs or {}))

    def fail(self, message: str) -> None:
        self.jobs.put_job_failure_result(
            jobId=self.job_id, failureDetails={"type": "JobFailed", "message": message}
        )


#: A stub function: answers the job (or leaves it waiting).
Stub = Callable[[StubJob], None]


class StubFunctions:
    """The engine's ``Functions``: each invocation takes ``seconds`` of virtual time, then
    calls the one-shot stub of its (stage, action), or the stub of its action, or
    succeeds."""

    def __init__(
        self,
        jobs: EmulatedJobs,
        codepipeline: EmulatedCodePipeline,
        clock: VirtualClock,
        *,
        seconds: float = 0.0,
    ) -> None:
        self.jobs = jobs
        self.codepipeline = codepipeline
        self.clock = clock
        self.seconds = seconds
        #: Stubs by action name.
        self.stubs: dict[str, Stub] = {}
        #: One-shot stubs, used by the next invocation of (stage, action) only.
        self.once: dict[tuple[str, str], Stub] = {}
        self.invoked: list[StubJob] = []

    def invoke(self, function: str, event: dict[str, Any]) -> None:
        job = self._job(function, event)
        self.invoked.append(job)
        self.clock.advance(self.seconds)
        key = (job.stage, job.action)
        stub = self.once.pop(key, None) or self.stubs.get(job.action)
        (stub or StubJob.succeed)(job)

    def retry_waits(self, function: str) -> tuple[float, ...]:
        return ()

    def _job(self, function: str, event: dict[str, Any]) -> StubJob:
        data = event["CodePipeline.job"]["data"]
        user_parameters = data["actionConfiguration"]["configuration"]["UserParameters"]
        for name in self.codepipeline.pipeline_names():
            for execution in self.codepipeline.pipeline_record(name).executions:
                for stage in execution.stages.values():
                    for action in stage.actions.values():
                        configuration = action.configuration
                        if (
                            action.status == IN_PROGRESS
                            and configuration.get("FunctionName") == function
                            and configuration.get("UserParameters", "") == user_parameters
                        ):
                            return StubJob(
                                jobs=self.jobs,
                                job_id=event["CodePipeline.job"]["id"],
                                execution_id=execution.pipeline_execution_id,
                                stage=stage.stage_name,
                                action=action.action_name,
                                parameters=json.loads(user_parameters or "{}"),
                            )
        raise AssertionError(f"{function} was invoked for no running action")


class StubEngine:
    """``PipelineEngine`` over ``codepipeline`` with ``StubFunctions``, and ways to run it
    until something is so."""

    def __init__(
        self,
        codepipeline: EmulatedCodePipeline,
        clock: VirtualClock,
        *,
        on_transition: Transition | None = None,
        identity: Identity | None = None,
        action_seconds: float = 0.0,
    ) -> None:
        self.codepipeline = codepipeline
        self.clock = clock
        self.jobs = EmulatedJobs()
        self.functions = StubFunctions(self.jobs, codepipeline, clock, seconds=action_seconds)
        self.engine = PipelineEngine(
            codepipeline=codepipeline,
            jobs=self.jobs,
            functions=self.functions,
            clock=clock,
            bundles={},
            on_transition=on_transition,
            identity=identity,
        )

    # --- what the functions do ---------------------------------------------------------

    def fail(self, stage: str, action: str, message: str) -> None:
        """The next run of ``action`` in ``stage`` fails with ``message``."""
        self.functions.once[(stage, action)] = lambda job: job.fail(message)

    def hold(self, stage: str, action: str) -> None:
        """The next run of ``action`` in ``stage`` gives no answer: the action stays in
        progress until ``answer`` (or CodePipeline's timeout)."""
        self.functions.once[(stage, action)] = lambda job: None

    def answer(self, execution_id: str, stage: str, action: str) -> None:
        """Answer the held job of ``action`` with success, and let the engine see it."""
        job = next(
            j
            for j in reversed(self.functions.invoked)
            if (j.execution_id, j.stage, j.action) == (execution_id, stage, action)
        )
        job.succeed()
        self.engine.step()

    # --- running -------------------------------------------------------------------------

    def run_until(self, done: Callable[[], bool], what: str) -> None:
        """Step the engine (letting virtual time pass to what is due) until ``done``."""
        while not done():
            if self.engine.step():
                continue
            due = self.engine.next_due()
            if due is None:
                raise AssertionError(f"the pipeline stopped before {what}")
            self.clock.advance(max(0.0, (due - self.clock.now()).total_seconds()))

    def execution(self, execution_id: str) -> PipelineExecution:
        return self.codepipeline.execution_record(execution_id)

    def run_stage(self, execution_id: str, stage: str) -> None:
        """Run until ``stage`` of the execution succeeded or failed."""
        self.run_until(
            lambda: self._stage_status(execution_id, stage) in ("Succeeded", "Failed"),
            f"{stage} of {execution_id} ended",
        )

    def run_to_invocation(self, execution_id: str, stage: str, action: str) -> None:
        """Run until the function of ``action`` in ``stage`` was invoked for the execution."""
        self.run_until(
            lambda: any(
                (j.execution_id, j.stage, j.action) == (execution_id, stage, action)
                for j in self.functions.invoked
            ),
            f"{stage}.{action} of {execution_id} was invoked",
        )

    def run_to_approval(self, execution_id: str, stage: str) -> None:
        """Run until the execution waits at the manual approval of ``stage``."""
        self.run_until(
            lambda: self._stage_status(execution_id, stage) == IN_PROGRESS,
            f"{execution_id} waited at {stage}",
        )

    def approve(
        self, execution_id: str, stage: str, action: str, *, summary: str = "go ahead"
    ) -> None:
        """Answer the waiting approval with Approved, as a reviewer does."""
        pipeline = self.execution(execution_id).pipeline_name
        state = self.engine.get_pipeline_state(name=pipeline)
        (stage_state,) = [s for s in state["stageStates"] if s["stageName"] == stage]
        (action_state,) = [a for a in stage_state["actionStates"] if a["actionName"] == action]
        self.engine.put_approval_result(
            pipelineName=pipeline,
            stageName=stage,
            actionName=action,
            result={"status": "Approved", "summary": summary},
            token=action_state["latestExecution"]["token"],
        )

    def run_to_end(self, execution_id: str) -> None:
        """Run until the execution ended and its end was published, approving each
        manual approval it waits at."""
        while self.execution(execution_id).status not in EXECUTION_DONE:
            self.run_until(
                lambda: (
                    self.execution(execution_id).status in EXECUTION_DONE
                    or bool(self._waiting(execution_id))
                ),
                f"{execution_id} ended",
            )
            for stage, action in self._waiting(execution_id):
                self.approve(execution_id, stage, action)
        self.engine.step()  # the engine publishes an end on the step after it

    def _waiting(self, execution_id: str) -> list[tuple[str, str]]:
        """The manual approvals of the execution that wait for an answer."""
        execution = self.execution(execution_id)
        pipeline = self.codepipeline.pipeline_record(execution.pipeline_name)
        return [
            (stage.stage_name, action.action_name)
            for stage in execution.stages.values()
            for action in stage.actions.values()
            if action.status == IN_PROGRESS
            and (pipeline.action(stage.stage_name, action.action_name) or {})
            .get("actionTypeId", {})
            .get("category")
            == "Approval"
        ]

    def _stage_status(self, execution_id: str, stage: str) -> str | None:
        record = self.execution(execution_id).stages.get(stage)
        return None if record is None else record.status
