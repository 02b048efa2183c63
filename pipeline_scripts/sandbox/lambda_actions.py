"""Lambda invoke actions as CodePipeline runs them: jobs, continuations, retries, timeouts.

CodePipeline (user guide, "Invoke a Lambda function in a pipeline"; quotas) invokes the
function asynchronously with a job event; the function answers with PutJobSuccessResult
(a continuation token means "invoke me again", as a new job) or PutJobFailureResult.
A job with no result 20 minutes after its invocation fails the action as timed out, and
an action may run 24 hours in all. An invocation that raised or was killed at its
timeout without answering gets Lambda's retries of the same job. An answer may come at
any time before the job times out, during the invocation or after it. How soon
CodePipeline re-invokes after a continuation is not documented: ``poll`` (30 s by
default) is the sandbox's model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import FAILED, SUCCEEDED
from pipeline_scripts.emulation.jobs import Artifact, EmulatedJobs, JobAnswer, job_event

#: CodePipeline fails a Lambda invoke job that has no result this long after its
#: invocation; a Lambda invoke action may run this long in all (CodePipeline quotas).
JOB_RESULT_TIMEOUT = timedelta(minutes=20)
ACTION_TIMEOUT = timedelta(hours=24)
#: How soon the engine invokes the function again after a continuation token. Not
#: documented by CodePipeline; 30 s is the sandbox's model.
REINVOKE_SECONDS = 30.0

#: (execution id, stage, action)
ActionKey = tuple[str, str, str]


class Functions(Protocol):
    """What runs the functions of the actions: the sandbox's ``LambdaRuntime``, or a
    test's stand-ins."""

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Run ``function`` on ``event``; raise when the invocation failed."""
        ...

    def retry_waits(self, function: str) -> Sequence[float]:
        """Lambda's waits before each retry of a failed asynchronous invocation."""
        ...


@dataclass(frozen=True)
class ActionOutcome:
    """How a Lambda invoke action ended."""

    status: str  # Succeeded | Failed
    summary: str | None
    output_variables: Mapping[str, str] = field(default_factory=dict)


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


class LambdaActions:
    """The Lambda invoke actions in progress, each waiting on its current job."""

    def __init__(
        self,
        *,
        jobs: EmulatedJobs,
        functions: Functions,
        clock: VirtualClock,
        poll_seconds: float = REINVOKE_SECONDS,
    ) -> None:
        self.jobs = jobs
        self.functions = functions
        self.clock = clock
        self.reinvoke_after = timedelta(seconds=poll_seconds)
        self._running: dict[ActionKey, _Job] = {}

    def begin(
        self,
        key: ActionKey,
        *,
        function: str,
        user_parameters: str,
        artifacts: tuple[Artifact, ...],
    ) -> None:
        """The action began: its function is due now."""
        now = self.clock.now()
        self._running[key] = _Job(
            function=function,
            user_parameters=user_parameters,
            artifacts=artifacts,
            started=now,
            due=now,
        )

    def next_due(self) -> datetime | None:
        """When an action is next due: a (re-)invocation, or a timeout."""
        return min((job.next_due() for job in self._running.values()), default=None)

    def drop(self, execution_id: str) -> None:
        """Forget the actions of an execution that ended."""
        for key in [k for k in self._running if k[0] == execution_id]:
            del self._running[key]

    def poll(self, key: ActionKey) -> tuple[bool, ActionOutcome | None]:
        """Move the action on if something is due: whether anything moved, and how the
        action ended if it did."""
        job = self._running.get(key)
        if job is None:
            return False, None
        late = None if job.job_id is None else self.jobs.answers.get(job.job_id)
        if late is not None:
            return True, self._answered(key, job, late)
        now = self.clock.now()
        if job.due is not None and job.due <= now < job.deadline():
            return True, self._invoke(key, job)
        if now >= job.deadline():
            del self._running[key]
            return True, ActionOutcome(status=FAILED, summary=_timeout(job))
        return False, None

    def _invoke(self, key: ActionKey, job: _Job) -> ActionOutcome | None:
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
            job.retries = list(self.functions.retry_waits(job.function))
        job.due = None
        try:
            self.functions.invoke(job.function, job.event)
        except Exception:  # a function error or a timeout: Lambda retries it
            failed = True
        else:
            failed = False
        answer = self.jobs.answers.get(job.job_id)
        if answer is None:
            if failed and job.retries:
                job.due = self.clock.now() + timedelta(seconds=job.retries.pop(0))
            return None
        return self._answered(key, job, answer)

    def _answered(self, key: ActionKey, job: _Job, answer: JobAnswer) -> ActionOutcome | None:
        if answer.status == "InProgress":
            job.continuation_token = answer.continuation_token
            job.job_id, job.reply_by, job.due = None, None, self.clock.now() + self.reinvoke_after
            return None
        del self._running[key]
        if answer.status == SUCCEEDED:
            return ActionOutcome(
                status=SUCCEEDED, summary=answer.summary, output_variables=answer.output_variables
            )
        return ActionOutcome(status=FAILED, summary=answer.message or "failed")


def _timeout(job: _Job) -> str:
    """The failure summary of an action CodePipeline timed out."""
    if job.reply_by is not None and job.reply_by <= job.started + ACTION_TIMEOUT:
        minutes = int(JOB_RESULT_TIMEOUT.total_seconds() // 60)
        return f"The action timed out: {job.function} sent no job result within {minutes} minutes"
    hours = int(ACTION_TIMEOUT.total_seconds() // 3600)
    return f"The action timed out: it ran longer than the {hours}-hour limit"
