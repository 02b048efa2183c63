"""The Deploy action on moto with the emulated guardrails and job API (DESIGN rule 6)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from action_fixtures import (
    ALL_AT_ONCE,
    ARTIFACT_CREDENTIALS,
    ENDPOINT,
    ROLE_ARN,
    ActionWorld,
    action_world,
    load_event,
)
from botocore.exceptions import ClientError

from deploy import logic as deploy_logic
from shared import contract

pytestmark = pytest.mark.integration


@pytest.fixture
def world() -> Iterator[ActionWorld]:
    with action_world() as built:
        yield built


def test_first_deploy_creates_model_config_and_endpoint_and_sets_output_variables(
    world: ActionWorld,
) -> None:
    # GIVEN an approved version and no endpoint yet
    arn = world.register()

    # WHEN Deploy runs to completion
    run = world.deploy(arn)

    # THEN the endpoint is InService on the new config, whose model comes from the package
    assert run.status == "Succeeded"
    config = run.output_variables[contract.OUT_ENDPOINT_CONFIG_NAME]
    assert world.endpoint()["EndpointStatus"] == "InService"
    assert world.endpoint()["EndpointConfigName"] == config
    model = world.sagemaker.describe_model(ModelName=run.output_variables[contract.OUT_MODEL_NAME])
    assert model["Containers"][0]["ModelPackageName"] == arn
    assert model["ExecutionRoleArn"] == ROLE_ARN
    assert run.output_variables == {
        contract.OUT_MODEL_NAME: model["ModelName"],
        contract.OUT_ENDPOINT_CONFIG_NAME: config,
        contract.OUT_ENDPOINT_NAME: ENDPOINT,
        contract.OUT_MODEL_PACKAGE_ARN: arn,
    }
    assert config.startswith(f"{ENDPOINT}-v1-")
    assert len(config) <= 63
    assert world.emulator.update_requests == []


def test_update_sends_the_stage_canary_deployment_config_with_its_alarms(
    world: ActionWorld,
) -> None:
    # GIVEN version 1 live
    v1, v2 = world.register(), world.register()
    assert world.deploy(v1).status == "Succeeded"

    # WHEN version 2 is deployed with the stage's canary rollout
    run = world.deploy(v2)

    # THEN UpdateEndpoint received the blue/green canary config and auto-rollback alarms
    assert run.status == "Succeeded"
    [request] = world.emulator.update_requests
    assert request["EndpointConfigName"] == run.output_variables[contract.OUT_ENDPOINT_CONFIG_NAME]
    assert request["DeploymentConfig"] == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "WaitIntervalInSeconds": 300,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
            },
            "TerminationWaitInSeconds": 120,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        "AutoRollbackConfiguration": {
            "Alarms": [
                {"AlarmName": "greenlight-house-price-linear-learner-production-5xx"},
                {"AlarmName": "greenlight-house-price-linear-learner-production-latency"},
            ]
        },
    }
    assert world.endpoint()["EndpointConfigName"] == request["EndpointConfigName"]


def test_silent_guardrail_rollback_fails_and_names_the_alarm_in_alarm(
    world: ActionWorld,
) -> None:
    # GIVEN version 1 live and a version 2 that raises 5XX errors once it takes traffic
    v1, v2 = world.register(), world.register()
    good = world.deploy(v1)
    world.emulator.declare_behaviour(v2, healthy=False)

    # WHEN version 2 is deployed
    run = world.deploy(v2)

    # THEN the endpoint is back InService on version 1's config with no FailureReason,
    # and Deploy fails naming the 5XX alarm (and not the latency alarm, which is OK)
    endpoint = world.endpoint()
    assert endpoint["EndpointStatus"] == "InService"
    assert (
        endpoint["EndpointConfigName"] == good.output_variables[contract.OUT_ENDPOINT_CONFIG_NAME]
    )
    assert "FailureReason" not in endpoint
    assert run.status == "Failed"
    assert run.message is not None
    assert "rolled back" in run.message
    assert "greenlight-house-price-linear-learner-production-5xx" in run.message
    assert "production-latency" not in run.message


def test_version_already_live_succeeds_at_once_and_creates_nothing(world: ActionWorld) -> None:
    # GIVEN version 1 live
    v1 = world.register()
    first = world.deploy(v1)
    configs, models = world.config_names(), world.model_names()

    # WHEN Deploy runs again for the same version (a re-run of the stage)
    again = world.deploy(v1)

    # THEN it succeeds in one invocation with the live names, creating nothing
    assert again.status == "Succeeded"
    assert again.invocations == 1
    assert again.output_variables == first.output_variables
    assert world.config_names() == configs
    assert world.model_names() == models
    assert world.emulator.update_requests == []


def test_deploy_waits_through_continuation_tokens_across_invocations(world: ActionWorld) -> None:
    # GIVEN version 1 live
    v1, v2 = world.register(), world.register()
    world.deploy(v1)

    # WHEN version 2 rolls out with a 300 s canary wait
    started = world.clock.now()
    run = world.deploy(v2)

    # THEN Deploy answered in progress with a token several times, each invocation
    # receiving the token of the one before, and finished after the rollout's time
    assert run.status == "Succeeded"
    in_progress = [a for a in run.answers if a.status == "InProgress"]
    assert len(in_progress) >= 2
    for answer, next_event in zip(run.answers, run.events[1:], strict=False):
        assert next_event["CodePipeline.job"]["data"]["continuationToken"] == (
            answer.continuation_token
        )
    token = json.loads(in_progress[0].continuation_token or "")
    assert token["requested"] == run.output_variables[contract.OUT_ENDPOINT_CONFIG_NAME]
    assert token["previous"].startswith(f"{ENDPOINT}-v1-")
    assert (world.clock.now() - started).total_seconds() >= 120 + 300 + 300 + 120
    assert len(world.emulator.update_requests) == 1


def test_endpoint_that_fails_to_start_fails_deploy_with_its_failure_reason(
    world: ActionWorld,
) -> None:
    # GIVEN a version whose instances cannot start
    arn = world.register()
    world.emulator.declare_behaviour(arn, startup_failure="The primary container failed ping")

    # WHEN Deploy creates the endpoint
    run = world.deploy(arn)

    # THEN the endpoint is Failed and Deploy fails with its FailureReason
    assert world.endpoint()["EndpointStatus"] == "Failed"
    assert run.status == "Failed"
    assert run.message is not None
    assert "is Failed" in run.message
    assert "The primary container failed ping" in run.message


def test_unexpected_exception_still_reports_exactly_one_failure_naming_it(
    world: ActionWorld,
) -> None:
    # GIVEN a sagemaker client that breaks on the first call
    class Broken:
        def __getattr__(self, name: str) -> object:
            raise RuntimeError("sagemaker is unreachable")

    arn = world.register()

    # WHEN Deploy runs with it
    run = world.deploy(arn, sagemaker=Broken())

    # THEN exactly one answer was given for the job: a failure naming the exception
    assert run.status == "Failed"
    assert run.invocations == 1
    assert len(world.jobs.answers) == 1
    assert run.final is not None
    assert run.final.failure_type == "JobFailed"
    assert run.message == "Deploy raised RuntimeError: sagemaker is unreachable"


def test_malformed_user_parameters_report_a_failure_naming_the_field(world: ActionWorld) -> None:
    # GIVEN a job whose UserParameters lack the endpoint name
    event = load_event("codepipeline_job_deploy.json")
    params = json.loads(
        event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]["UserParameters"]
    )
    del params["endpointName"]
    event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]["UserParameters"] = (
        json.dumps(params)
    )
    world.jobs.open_job(event["CodePipeline.job"]["id"])

    # WHEN Deploy handles it
    world.deploy_handler()(event, None)

    # THEN the job failed, and the message names the missing field
    [answer] = world.jobs.answers.values()
    assert answer.status == "Failed"
    assert answer.message == (
        "Deploy raised InvalidParameters: Deploy UserParameters.endpointName: missing"
    )


def test_every_path_answers_the_job_exactly_once(world: ActionWorld) -> None:
    # GIVEN a create, an update, a rollback and an already-live re-run
    v1, v2, v3 = world.register(), world.register(), world.register()
    world.emulator.declare_behaviour(v3, healthy=False)
    runs = [world.deploy(v1), world.deploy(v2), world.deploy(v3), world.deploy(v2)]

    # THEN every invocation of every run got exactly one answer
    invocations = sum(run.invocations for run in runs)
    assert len(world.jobs.answers) == invocations
    assert [run.status for run in runs] == ["Succeeded", "Succeeded", "Failed", "Succeeded"]


def test_answering_a_job_twice_is_refused(world: ActionWorld) -> None:
    # GIVEN a job Deploy already answered
    arn = world.register()
    run = world.deploy(arn)
    job_id = run.events[-1]["CodePipeline.job"]["id"]

    # WHEN a second answer is sent for it
    with pytest.raises(ClientError) as raised:
        world.jobs.put_job_failure_result(
            jobId=job_id, failureDetails={"type": "JobFailed", "message": "again"}
        )

    # THEN CodePipeline refuses it as InvalidJobStateException
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidJobStateException"
    assert error["Message"] == f"Job {job_id} is already in state Succeeded"


def test_retention_keeps_the_newest_configs_never_the_live_or_rollback_target(
    world: ActionWorld,
) -> None:
    # GIVEN five versions deployed in turn, keeping 2 configs
    arns = [world.register() for _ in range(5)]
    runs = [world.deploy(arn, rollout=ALL_AT_ONCE, keep_configs=2) for arn in arns]
    live = runs[-1].output_variables[contract.OUT_ENDPOINT_CONFIG_NAME]
    previous = runs[-2].output_variables[contract.OUT_ENDPOINT_CONFIG_NAME]

    # THEN only the live config and the rollback target (and their models) remain
    assert world.config_names() == sorted([live, previous])
    assert world.model_names() == sorted([live, previous])


def test_retention_keeps_the_rollback_target_even_with_keep_one(world: ActionWorld) -> None:
    # GIVEN three versions deployed, keeping 1 config
    arns = [world.register() for _ in range(3)]
    runs = [world.deploy(arn, rollout=ALL_AT_ONCE, keep_configs=1) for arn in arns]

    # THEN the live config stays, and so does the one live before it
    live = runs[-1].output_variables[contract.OUT_ENDPOINT_CONFIG_NAME]
    previous = runs[-2].output_variables[contract.OUT_ENDPOINT_CONFIG_NAME]
    assert world.config_names() == sorted([live, previous])
    assert world.endpoint()["EndpointConfigName"] == live


def test_retention_leaves_other_endpoints_configs_alone(world: ActionWorld) -> None:
    # GIVEN a config of another endpoint whose name starts with this endpoint's name
    arn = world.register()
    world.sagemaker.create_model(
        ModelName=f"{ENDPOINT}-eu-v1-abcdef",
        Containers=[{"ModelPackageName": arn}],
        ExecutionRoleArn=ROLE_ARN,
    )
    world.sagemaker.create_endpoint_config(
        EndpointConfigName=f"{ENDPOINT}-eu-v1-abcdef",
        ProductionVariants=[
            {
                "VariantName": contract.VARIANT_NAME,
                "ModelName": f"{ENDPOINT}-eu-v1-abcdef",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )

    # WHEN versions are deployed with keep 1
    runs = [world.deploy(world.register(), rollout=ALL_AT_ONCE, keep_configs=1) for _ in range(3)]

    # THEN this endpoint's oldest config and model were removed, and the other
    # endpoint's config and model are still there
    kept = [run.output_variables[contract.OUT_ENDPOINT_CONFIG_NAME] for run in runs[-2:]]
    other = f"{ENDPOINT}-eu-v1-abcdef"
    assert world.config_names() == sorted([other, *kept])
    assert world.model_names() == sorted([other, *kept])


def test_artifact_credentials_never_appear_in_logs(
    world: ActionWorld, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN debug logging for the action code, and a run that succeeds then one that fails
    caplog.set_level(logging.DEBUG, logger="deploy")
    caplog.set_level(logging.DEBUG, logger="shared")
    v1, v2 = world.register(), world.register()
    world.emulator.declare_behaviour(v2, healthy=False)

    # WHEN Deploy runs both
    world.deploy(v1)
    world.deploy(v2)

    # THEN something was logged, and none of the artifact credentials
    assert caplog.records
    text = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for secret in (
        ARTIFACT_CREDENTIALS.access_key_id,
        ARTIFACT_CREDENTIALS.secret_access_key,
        ARTIFACT_CREDENTIALS.session_token,
    ):
        assert secret not in text


def test_recorded_job_event_deploys_through_the_handler_entry_point(world: ActionWorld) -> None:
    # GIVEN the recorded CodePipeline job event for Deploy, for a registered version
    arn = world.register()
    event = load_event("codepipeline_job_deploy.json")
    configuration = event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]
    params = json.loads(configuration["UserParameters"])
    assert params["modelPackageArn"] == arn
    world.jobs.open_job(event["CodePipeline.job"]["id"])

    # WHEN the logic behind deploy.handler.handler runs it
    result = deploy_logic.run(
        event,
        codepipeline=world.jobs,  # type: ignore[arg-type]
        sagemaker=world.emulator.sagemaker_client(),
        cloudwatch=world.cloudwatch,
        clock=world.emulator.clock,
    )

    # THEN it answered the job in progress with a token naming the config it requested
    assert result == {"jobId": event["CodePipeline.job"]["id"], "status": "InProgress"}
    answer = world.jobs.answers[event["CodePipeline.job"]["id"]]
    assert json.loads(answer.continuation_token or "")["requested"].startswith(
        f"{params['endpointName']}-v1-"
    )
