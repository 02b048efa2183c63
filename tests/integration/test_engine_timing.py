"""CodePipeline's timing of Lambda invoke actions in the sandbox's engine: 20 minutes
for a job's result, reset by each continuation, 24 hours in all, with Lambda's async
retries in between (docs/aws-behaviour.md, CodePipeline and Time)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import EmulatedCodePipeline
from pipeline_scripts.emulation.jobs import EmulatedJobs
from pipeline_scripts.sandbox.app_spec import FunctionSpec
from pipeline_scripts.sandbox.engine import PipelineEngine
from pipeline_scripts.sandbox.runtime import LambdaRuntime
from shared.clock import install_clock

pytestmark = pytest.mark.integration

PIPELINE = "timing"
#: Each handler answers through the EmulatedJobs the test puts in ``timing_hub.JOBS``
#: and notes the time of every invocation in ``timing_hub.CALLS``.
#: ``deferred`` leaves its job id in ``timing_hub.WAITING`` for someone else to answer.
HUB = "JOBS = None\nCALLS = []\nWAITING = []\n"
HANDLERS = {
    "silent": "pass",
    "deferred": "timing_hub.WAITING.append(job['id'])",
    "crasher": "raise RuntimeError('the action crashed')",
    "flaky": """
        if len(timing_hub.CALLS) == 1:
            raise RuntimeError('the first attempt crashed')
        timing_hub.JOBS.put_job_success_result(
            jobId=job["id"], executionDetails={"summary": "done"}
        )
    """,
    "continuer": """
        timing_hub.JOBS.put_job_success_result(
            jobId=job["id"], continuationToken="again", executionDetails={"summary": "wait"}
        )
    """,
    "once": """
        if "continuationToken" not in job["data"]:
            timing_hub.JOBS.put_job_success_result(
                jobId=job["id"], continuationToken="again", executionDetails={"summary": "w"}
            )
    """,
}


@dataclass
class Run:
    status: str
    summary: str
    ended: datetime
    calls: list[datetime]


@pytest.fixture
def code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "timing_hub.py").write_text(HUB)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name, body in HANDLERS.items():
        (tmp_path / name).mkdir()
        source = (
            "import timing_hub\n\n"
            "def handler(event, context):\n"
            "    from shared.clock import current_clock\n"
            "    timing_hub.CALLS.append(current_clock().now())\n"
            '    job = event["CodePipeline.job"]\n' + textwrap.indent(textwrap.dedent(body), "    ")
        )
        (tmp_path / name / "handler.py").write_text(source)
    sys.modules.pop("timing_hub", None)
    yield tmp_path
    sys.modules.pop("timing_hub", None)


#: Something outside the function, given the clock and the jobs, once the engine waits.
Outside = Callable[[VirtualClock, EmulatedJobs], None]


def _run(
    code: Path, function: str, *, poll_seconds: float = 30.0, outside: Outside | None = None
) -> Run:
    """One execution of a pipeline whose only action invokes ``function``, driven as the
    sandbox drives it: step, then let virtual time pass to whatever is due next
    (``outside`` acts the first time the engine waits)."""
    import timing_hub  # the module the fixture wrote

    clock = VirtualClock()
    install_clock(clock)
    try:
        jobs = EmulatedJobs()
        timing_hub.JOBS = jobs  # type: ignore[attr-defined]
        spec = FunctionSpec(
            logical_id=function,
            name=function,
            handler=f"{function}.handler.handler",
            environment={},
            timeout_seconds=30,
        )
        codepipeline = EmulatedCodePipeline(clock=clock)
        engine = PipelineEngine(
            codepipeline=codepipeline,
            jobs=jobs,
            functions=LambdaRuntime({function: spec}, code=code),
            clock=clock,
            bundles={},
            poll_seconds=poll_seconds,
        )
        engine.add_pipeline(_declaration(function))
        # Creating the pipeline started an execution of its own (trigger CreatePipeline):
        # abandon it before it runs, so that only the execution under test invokes.
        (created,) = codepipeline.list_pipeline_executions(pipelineName=PIPELINE)[
            "pipelineExecutionSummaries"
        ]
        codepipeline.stop_pipeline_execution(
            pipelineName=PIPELINE,
            pipelineExecutionId=created["pipelineExecutionId"],
            abandon=True,
            reason="not under test",
        )
        started = codepipeline.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"]
        while True:
            while engine.step():
                pass
            if outside is not None:
                outside(clock, jobs)
                outside = None
                continue
            due = engine.next_due()
            if due is None:
                break
            clock.advance(max((due - clock.now()).total_seconds(), 0))
        action = codepipeline.execution_record(started).stages["Run"].actions["Work"]
        return Run(
            status=action.status,
            summary=action.summary or "",
            ended=action.last_update_time,
            calls=list(timing_hub.CALLS),  # type: ignore[attr-defined]
        )
    finally:
        install_clock(None)


def _declaration(function: str) -> dict[str, Any]:
    return {
        "name": PIPELINE,
        "pipelineType": "V2",
        "executionMode": "SUPERSEDED",
        "variables": [],
        "stages": [
            {
                "name": "Run",
                "actions": [
                    {
                        "name": "Work",
                        "actionTypeId": {
                            "category": "Invoke",
                            "owner": "AWS",
                            "provider": "Lambda",
                            "version": "1",
                        },
                        "runOrder": 1,
                        "configuration": {"FunctionName": function},
                        "inputArtifacts": [],
                        "outputArtifacts": [],
                    }
                ],
            }
        ],
    }


def _offsets(run: Run) -> list[float]:
    return [(call - run.calls[0]).total_seconds() for call in run.calls]


def test_an_action_whose_function_never_answers_times_out_after_20_minutes(code: Path) -> None:
    # GIVEN a function that returns without a job result
    # WHEN the pipeline runs it
    run = _run(code, "silent")

    # THEN it ran once (a return is no error to retry), and CodePipeline failed the
    # action 20 minutes after the invocation
    assert _offsets(run) == [0]
    assert run.status == "Failed"
    assert "sent no job result within 20 minutes" in run.summary
    assert run.ended - run.calls[0] == timedelta(minutes=20)


def test_a_job_result_sent_after_the_invocation_returned_completes_the_action(
    code: Path,
) -> None:
    # GIVEN a function that hands its job on and returns, and a result for that job sent
    # from elsewhere five minutes later
    def answer_five_minutes_later(clock: VirtualClock, jobs: EmulatedJobs) -> None:
        import timing_hub

        clock.advance(300)
        (job_id,) = timing_hub.WAITING  # type: ignore[attr-defined]
        jobs.put_job_success_result(jobId=job_id, executionDetails={"summary": "done elsewhere"})

    # WHEN the pipeline runs it
    run = _run(code, "deferred", outside=answer_five_minutes_later)

    # THEN the late result completed the action, with no second invocation and no timeout
    assert _offsets(run) == [0]
    assert (run.status, run.summary) == ("Succeeded", "done elsewhere")
    assert run.ended - run.calls[0] == timedelta(minutes=5)


def test_a_function_that_raises_gets_lambdas_two_retries_before_the_timeout(code: Path) -> None:
    # GIVEN a function that always raises before answering
    # WHEN the pipeline runs it
    run = _run(code, "crasher")

    # THEN Lambda retried it 1 and then 2 minutes later, and the action timed out
    assert _offsets(run) == [0, 60, 180]
    assert run.status == "Failed"
    assert run.ended - run.calls[0] == timedelta(minutes=20)


def test_a_retry_that_answers_the_job_completes_the_action(code: Path) -> None:
    # GIVEN a function whose first attempt raises and whose retry answers
    # WHEN the pipeline runs it
    run = _run(code, "flaky")

    # THEN the retry's answer to the same job counted
    assert _offsets(run) == [0, 60]
    assert (run.status, run.summary) == ("Succeeded", "done")


def test_a_continuation_restarts_the_20_minutes(code: Path) -> None:
    # GIVEN a function that continues once, then never answers again
    # WHEN the pipeline runs it
    run = _run(code, "once")

    # THEN the second job timed out 20 minutes after its own invocation, 30 s later
    assert _offsets(run) == [0, 30]
    assert run.status == "Failed"
    assert run.ended - run.calls[1] == timedelta(minutes=20)


def test_an_action_that_keeps_continuing_stops_at_24_hours(code: Path) -> None:
    # GIVEN a function that answers "in progress" forever, re-invoked every 10 minutes
    # WHEN the pipeline runs it
    run = _run(code, "continuer", poll_seconds=600)

    # THEN CodePipeline ended the action at its 24-hour limit
    assert run.status == "Failed"
    assert "24-hour limit" in run.summary
    assert run.ended - run.calls[0] == timedelta(hours=24)
    assert len(run.calls) == 24 * 6
