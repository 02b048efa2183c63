"""The job-result wrapper every action uses, against the emulated CodePipeline job API."""

from __future__ import annotations

from typing import Any

import pytest
from action_fixtures import load_event
from botocore.exceptions import ClientError

from pipeline_scripts.emulation.jobs import EmulatedJobs
from shared.jobs import MAX_MESSAGE_CHARS, Failed, InProgress, Succeeded, run_job

pytestmark = pytest.mark.integration


def _event() -> dict[str, Any]:
    return load_event("codepipeline_job_bake.json")


def test_unknown_job_id_is_refused_with_job_not_found() -> None:
    # GIVEN a job API that never handed out this job
    jobs = EmulatedJobs()

    # WHEN a result is put for it
    with pytest.raises(ClientError) as raised:
        jobs.put_job_success_result(jobId="no-such-job")

    # THEN the error is JobNotFoundException naming the job
    assert raised.value.response["Error"]["Code"] == "JobNotFoundException"
    assert raised.value.response["Error"]["Message"] == "Job no-such-job not found"


def test_an_overlong_failure_message_is_cut_to_the_api_limit() -> None:
    # GIVEN an action failing with a 9000-character message
    jobs = EmulatedJobs()
    event = _event()
    job_id = jobs.open_job(event["CodePipeline.job"]["id"])

    # WHEN run_job reports it
    run_job(event, lambda job: Failed(message="x" * 9000), action_name="Bake", codepipeline=jobs)

    # THEN the message fits the 5000-character limit and says it was cut
    message = jobs.answers[job_id].message or ""
    assert len(message) == MAX_MESSAGE_CHARS
    assert message.endswith(" …")


def test_in_progress_result_carries_the_token_and_no_output_variables() -> None:
    # GIVEN an action still working
    jobs = EmulatedJobs()
    event = _event()
    job_id = jobs.open_job(event["CodePipeline.job"]["id"])

    # WHEN run_job reports it
    result = run_job(
        event,
        lambda job: InProgress(continuation_token='{"started":"x"}', summary="3 of 15 minutes"),
        action_name="Bake",
        codepipeline=jobs,
    )

    # THEN the job is answered in progress with the token
    assert result == {"jobId": job_id, "status": "InProgress"}
    answer = jobs.answers[job_id]
    assert answer.status == "InProgress"
    assert answer.continuation_token == '{"started":"x"}'
    assert answer.output_variables == {}


def test_a_success_the_api_refuses_is_reported_as_a_failure_instead() -> None:
    # GIVEN an action whose output variable is longer than CodePipeline accepts
    jobs = EmulatedJobs()
    event = _event()
    job_id = jobs.open_job(event["CodePipeline.job"]["id"])

    # WHEN run_job reports it
    result = run_job(
        event,
        lambda job: Succeeded(summary="done", output_variables={"Big": "v" * 1001}),
        action_name="Deploy",
        codepipeline=jobs,
    )

    # THEN the job is failed, naming the variable, rather than left hanging
    assert result["status"] == "Failed"
    assert jobs.answers[job_id].message == (
        "Deploy could not report Succeeded: ResultTooLarge: "
        "output variable Big is 1001 characters, more than 1000"
    )


def test_event_with_no_job_data_is_answered_as_a_failure_naming_the_field() -> None:
    # GIVEN a job event whose data is missing
    jobs = EmulatedJobs()
    job_id = jobs.open_job("job-without-data")
    event = {"CodePipeline.job": {"id": job_id, "accountId": "123456789012"}}

    # WHEN run_job handles it
    run_job(event, lambda job: Succeeded(summary="never"), action_name="Bake", codepipeline=jobs)

    # THEN the job failed with a message naming the missing field
    assert jobs.answers[job_id].message == (
        "Bake raised InvalidJobEvent: CodePipeline job event CodePipeline.job.data: "
        "missing or not an object"
    )
