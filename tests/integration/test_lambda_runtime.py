"""The sandbox's Lambda runtime holds each function to its synthesized timeout and
retries asynchronous invocations as Lambda does (docs/aws-behaviour.md, Lambda)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.jobs import EmulatedJobs
from pipeline_scripts.sandbox.app_spec import FunctionSpec, QueueRef
from pipeline_scripts.sandbox.runtime import FunctionTimedOut, LambdaRuntime
from pipeline_scripts.sandbox.template import load_app
from shared.clock import install_clock

pytestmark = pytest.mark.integration

HANDLERS = {
    "sleeper": """
        from shared.clock import current_clock

        def handler(event, context):
            try:
                current_clock().sleep(event["sleep"])
            except Exception:
                return "swallowed"
            event["after_sleep"].append(True)
            return context.get_remaining_time_in_millis()
    """,
    "answerer": """
        def handler(event, context):
            event["clock"].advance(event["latency"])  # an emulated service's latency
            event["jobs"].put_job_success_result(
                jobId=event["job_id"], executionDetails={"summary": "done"}
            )
            return "answered"
    """,
    "printer": """
        def handler(event, context):
            print('{"message": "a log line"}')
            print('{"_aws": {"CloudWatchMetrics": []}}')
            return "printed"
    """,
    "failer": """
        def handler(event, context):
            event["attempts"].append(True)
            raise RuntimeError("the handler failed")
    """,
}
DLQ = QueueRef(logical_id="FailureQueue", arn="arn:aws:sqs:us-east-1:123456789012:failures")


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    clock = VirtualClock()
    install_clock(clock)
    yield clock
    install_clock(None)


@pytest.fixture
def code(tmp_path: Path) -> Path:
    for name, source in HANDLERS.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "handler.py").write_text(textwrap.dedent(source))
    return tmp_path


def _spec(name: str, timeout: int = 30, **extra: Any) -> FunctionSpec:
    return FunctionSpec(
        logical_id=name,
        name=name,
        handler=f"{name}.handler.handler",
        environment={},
        timeout_seconds=timeout,
        **extra,
    )


def _runtime(code: Path, *specs: FunctionSpec, **options: Any) -> LambdaRuntime:
    return LambdaRuntime({spec.logical_id: spec for spec in specs}, code=code, **options)


def test_a_sleep_past_the_timeout_kills_the_function_at_its_deadline(
    code: Path, clock: VirtualClock
) -> None:
    # GIVEN a 30-second function that sleeps 60 s and would swallow any Exception
    runtime = _runtime(code, _spec("sleeper", timeout=30))
    start, after_sleep = clock.now(), []

    # WHEN it is invoked
    with pytest.raises(FunctionTimedOut, match=r"sleeper: Task timed out after 30\.00 seconds"):
        runtime.invoke("sleeper", {"sleep": 60, "after_sleep": after_sleep})

    # THEN it was stopped at its deadline: no code after the sleep ran, nothing returned
    assert 29.5 < (clock.now() - start).total_seconds() <= 30
    assert after_sleep == []
    assert [r.outcome for r in runtime.invocations] == ["timed out"]


def test_what_a_function_prints_is_kept_as_its_output_and_not_shown(
    code: Path, clock: VirtualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a function that prints a log line and a metric line, as Powertools does
    runtime = _runtime(code, _spec("printer"))
    print("the sandbox's own line")

    # WHEN it is invoked
    assert runtime.invoke("printer", {}) == "printed"

    # THEN its lines are its output (its log group, on AWS), and the terminal shows only
    # what the sandbox itself printed
    assert runtime.output("printer") == [
        '{"message": "a log line"}',
        '{"_aws": {"CloudWatchMetrics": []}}',
    ]
    assert capsys.readouterr().out == "the sandbox's own line\n"


def test_remaining_time_counts_the_virtual_time_slept(code: Path, clock: VirtualClock) -> None:
    # GIVEN a 30-second function that sleeps 10 s, then asks for its remaining time
    runtime = _runtime(code, _spec("sleeper", timeout=30))

    # WHEN it is invoked
    remaining = runtime.invoke("sleeper", {"sleep": 10, "after_sleep": []})

    # THEN Lambda's context told it the truth: about 20 s left
    assert 19_000 < remaining <= 20_000


def test_a_job_answer_sent_after_the_deadline_is_never_sent(
    code: Path, clock: VirtualClock
) -> None:
    # GIVEN a 30-second function whose call to a service takes 31 s before it answers
    runtime = _runtime(code, _spec("answerer", timeout=30))
    jobs = EmulatedJobs(before_answer=runtime.check_deadline)
    job_id = jobs.open_job()

    # WHEN it is invoked
    event = {"clock": clock, "latency": 31, "jobs": jobs, "job_id": job_id}
    with pytest.raises(FunctionTimedOut):
        runtime.invoke("answerer", event)

    # THEN CodePipeline never got its answer
    assert jobs.answers == {}


def test_an_invocation_that_returns_past_its_timeout_is_timed_out(
    code: Path, clock: VirtualClock
) -> None:
    # GIVEN a 30-second function whose work takes 31 s without a sleep, answering nowhere
    runtime = _runtime(code, _spec("answerer", timeout=30))
    jobs = EmulatedJobs()
    job_id = jobs.open_job()

    # WHEN it is invoked
    # THEN its result is discarded: the invoker sees the timeout
    with pytest.raises(FunctionTimedOut):
        runtime.invoke("answerer", {"clock": clock, "latency": 31, "jobs": jobs, "job_id": job_id})
    assert [r.outcome for r in runtime.invocations] == ["timed out"]


def test_a_job_answer_sent_within_the_timeout_counts(code: Path, clock: VirtualClock) -> None:
    # GIVEN a 30-second function whose call takes 5 s before it answers
    runtime = _runtime(code, _spec("answerer", timeout=30))
    jobs = EmulatedJobs(before_answer=runtime.check_deadline)
    job_id = jobs.open_job()

    # WHEN it is invoked
    event = {"clock": clock, "latency": 5, "jobs": jobs, "job_id": job_id}
    result = runtime.invoke("answerer", event)

    # THEN the answer reached CodePipeline
    assert result == "answered"
    assert jobs.answers[job_id].status == "Succeeded"


@mock_aws
def test_a_failing_asynchronous_invocation_is_retried_twice_then_sent_to_its_dlq(
    code: Path, clock: VirtualClock
) -> None:
    # GIVEN a function that always fails, with Lambda's default retries and a DLQ
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName=DLQ.name)["QueueUrl"]
    runtime = _runtime(code, _spec("failer", dead_letter_queue=DLQ), sqs=lambda: sqs)
    start, attempts = clock.now(), []

    # WHEN it is invoked asynchronously
    result = runtime.invoke_async("failer", {"attempts": attempts})

    # THEN it ran three times, 1 and then 2 minutes apart, and its event is in the DLQ
    assert result is None
    assert len(attempts) == 3
    assert (clock.now() - start).total_seconds() == 180
    (letter,) = runtime.dead_letters
    assert (letter.queue, letter.sent) == (DLQ, True)
    (message,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"]) == {"attempts": [True, True, True]}
    assert message["MessageAttributes"]["ErrorMessage"]["StringValue"] == (
        "RuntimeError: the handler failed"
    )


def test_a_timed_out_asynchronous_invocation_is_retried(code: Path, clock: VirtualClock) -> None:
    # GIVEN a function that always outlives its timeout, and no DLQ
    runtime = _runtime(code, _spec("sleeper", timeout=30))

    # WHEN it is invoked asynchronously
    result = runtime.invoke_async("sleeper", {"sleep": 60, "after_sleep": []})

    # THEN each of the three attempts timed out, and the event was dropped
    assert result is None
    assert [r.outcome for r in runtime.invocations] == ["timed out"] * 3
    (letter,) = runtime.dead_letters
    assert letter.queue is None
    assert letter.error.startswith("FunctionTimedOut: sleeper: Task timed out")


def test_retries_follow_the_functions_event_invoke_config(code: Path, clock: VirtualClock) -> None:
    # GIVEN one function with no retries, one whose events may age only 90 s
    runtime = _runtime(
        code,
        _spec("failer", async_retry_attempts=0),
        _spec("sleeper", async_max_event_age_seconds=90),
    )
    attempts: list[bool] = []

    # WHEN the first is invoked asynchronously
    runtime.invoke_async("failer", {"attempts": attempts})

    # THEN it ran once; and the second gets only the retry its event's age allows
    assert attempts == [True]
    assert runtime.retry_waits("sleeper") == (60.0,)


def test_the_template_gives_each_function_its_timeout_retries_and_dlq(tmp_path: Path) -> None:
    # GIVEN a template with a 30-second function (one retry, a DLQ) and a bare function
    # (CloudFormation requires every function to name its role)
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}
    resources = {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "failures"}},
        "FnRole": role,
        "BareRole": role,
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Handler": "fn.handler.handler",
                "Role": {"Fn::GetAtt": ["FnRole", "Arn"]},
                "Timeout": 30,
                "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["Queue", "Arn"]}},
            },
        },
        "FnConfig": {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": {"Ref": "Fn"},
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": 1,
                "MaximumEventAgeInSeconds": 600,
            },
        },
        "Bare": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Handler": "b.handler.handler",
                "Role": {"Fn::GetAtt": ["BareRole", "Arn"]},
            },
        },
    }
    (tmp_path / "Greenlight.template.json").write_text(json.dumps({"Resources": resources}))

    # WHEN the sandbox reads it
    functions = load_app(tmp_path).functions

    # THEN each function has what the template says, and Lambda's defaults otherwise
    fn, bare = functions["Fn"], functions["Bare"]
    assert (fn.timeout_seconds, fn.async_retry_attempts, fn.async_max_event_age_seconds) == (
        30,
        1,
        600,
    )
    assert fn.dead_letter_queue == QueueRef(
        logical_id="Queue", arn="arn:aws:sqs:us-east-1:123456789012:failures"
    )
    assert (bare.timeout_seconds, bare.async_retry_attempts, bare.dead_letter_queue) == (3, 2, None)
