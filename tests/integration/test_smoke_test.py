"""The SmokeTest action: one request with the bundle's payload, four named checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from action_fixtures import ActionWorld, action_world, load_event

from shared.jobs import PipelineJob

pytestmark = pytest.mark.integration

SPEC: dict[str, Any] = {
    "payload": "3,2,1500,1998",
    "contentType": "text/csv",
    "accept": "text/csv",
    "expectedContentType": "text/csv",
    "expectedPattern": r"\s*\d+(\.\d+)?\s*",
    "latencyBudgetMs": 500,
}


@pytest.fixture
def world() -> Iterator[ActionWorld]:
    with action_world() as built:
        yield built


def _live(world: ActionWorld, **behaviour: Any) -> str:
    arn = world.register()
    world.emulator.declare_behaviour(arn, **behaviour)
    assert world.deploy(arn).status == "Succeeded"
    return arn


def test_smoke_test_passes_when_every_check_holds(world: ActionWorld) -> None:
    # GIVEN a live version answering a number in text/csv within 40 ms
    arn = _live(world, body="412000.5", latency_ms=40)
    world.put_bundle(SPEC)

    # WHEN the smoke test runs
    run = world.smoke_test(arn)

    # THEN it succeeds in one invocation
    assert run.status == "Succeeded"
    assert run.invocations == 1
    assert run.final is not None
    assert (
        run.final.summary == "smoke test of house-price-production (production) passed all checks"
    )


def test_smoke_test_fails_the_status_check_on_a_model_error(world: ActionWorld) -> None:
    # GIVEN a live version whose container answers 500
    arn = _live(world, healthy=False)
    world.put_bundle(SPEC)

    # WHEN the smoke test runs
    run = world.smoke_test(arn)

    # THEN it fails naming the status check and the observed error
    assert run.status == "Failed"
    assert run.message is not None
    assert "status check failed: got ModelError model status 500" in run.message


def test_smoke_test_fails_the_content_type_check_naming_what_came_back(world: ActionWorld) -> None:
    # GIVEN a live version answering JSON
    arn = _live(world, body="412000.5", content_type="application/json")
    world.put_bundle(SPEC)

    # WHEN the smoke test runs
    run = world.smoke_test(arn)

    # THEN only the content type check failed, with the observed value
    assert run.status == "Failed"
    assert run.message == (
        "smoke test of house-price-production (production): content type check failed: "
        "got 'application/json', expected 'text/csv'"
    )


def test_smoke_test_fails_the_body_check_when_the_pattern_does_not_match(
    world: ActionWorld,
) -> None:
    # GIVEN a live version answering something that is not a number
    arn = _live(world, body="NaN, model not loaded")
    world.put_bundle(SPEC)

    # WHEN the smoke test runs
    run = world.smoke_test(arn)

    # THEN the body check failed, quoting the body
    assert run.status == "Failed"
    assert run.message is not None
    assert "body check failed: got 'NaN, model not loaded'" in run.message
    assert "content type check" not in run.message


def test_smoke_test_fails_the_latency_check_over_budget(world: ActionWorld) -> None:
    # GIVEN a live version that takes 900 ms against a 500 ms budget
    arn = _live(world, body="1.0", latency_ms=900)
    world.put_bundle(SPEC)

    # WHEN the smoke test runs
    run = world.smoke_test(arn)

    # THEN the latency check failed with the measured time
    assert run.status == "Failed"
    assert run.message is not None
    assert "latency check failed: got 900 ms, expected at most 500 ms" in run.message


def test_smoke_test_fails_naming_the_stage_missing_from_the_bundle(world: ActionWorld) -> None:
    # GIVEN a bundle with no smoke test for this stage
    arn = _live(world)
    world.put_bundle(SPEC)
    world.s3.put_object(Bucket="greenlight-artifacts", Key="empty.zip", Body=b"not a zip")

    # WHEN the smoke test reads a bundle that is not a zip
    run = world.smoke_test(arn, bundle_key="empty.zip")

    # THEN it fails naming the bundle file
    assert run.status == "Failed"
    assert run.message is not None
    assert "BundleError: source bundle greenlight-bundle.json" in run.message


def test_recorded_smoke_test_event_parses_without_exposing_credentials() -> None:
    # GIVEN the recorded SmokeTest job event
    event = load_event("codepipeline_job_smoke_test.json")

    # WHEN it is parsed
    job = PipelineJob.from_event(event)

    # THEN its artifact is found and its credentials are present but never printed
    artifact = job.input_artifact("Bundle")
    assert artifact.location.bucket == "greenlight-house-price-linear-learner-artifacts"
    assert job.credentials is not None
    secret = event["CodePipeline.job"]["data"]["artifactCredentials"]["secretAccessKey"]
    assert job.credentials.secret_access_key == secret
    assert secret not in repr(job)
    assert secret not in str(job.credentials)
