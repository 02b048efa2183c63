"""Deploy takes one step per invocation, rolls back past a bad fleet's alarms, waits out
a busy endpoint and recovers a Failed one (issue 8, Half 2 items 1, 3, 4 and 7)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from action_fixtures import ALARM_5XX, ENDPOINT, STAGE_ALARMS, ActionWorld, action_world

from deploy.rollout import deployment_config
from shared import contract
from shared.parameters import Rollout

pytestmark = pytest.mark.integration


@pytest.fixture
def world() -> Iterator[ActionWorld]:
    with action_world() as built:
        yield built


class _CountingSageMaker:
    """The emulated client, counting DescribeEndpoint calls."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.describes = 0

    def describe_endpoint(self, **kwargs: Any) -> Any:
        self.describes += 1
        return self._client.describe_endpoint(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _config_of(run: Any) -> str:
    return str(run.output_variables[contract.OUT_ENDPOINT_CONFIG_NAME])


# --- item 1: one step per invocation ------------------------------------------------------


def test_each_invocation_polls_at_most_once_and_never_sleeps(world: ActionWorld) -> None:
    # GIVEN version 1 live, and a Deploy whose DescribeEndpoint calls and time are counted
    v1, v2 = world.register(), world.register()
    world.deploy(v1)
    counting = _CountingSageMaker(world.emulator.sagemaker_client())
    handler = world.deploy_handler(sagemaker=counting)
    per_invocation: list[tuple[int, float]] = []

    def measured(event: dict[str, Any], context: object) -> Any:
        before, started = counting.describes, world.clock.now()
        result = handler(event, context)
        elapsed = (world.clock.now() - started).total_seconds()
        per_invocation.append((counting.describes - before, elapsed))
        return result

    # WHEN version 2 rolls out through its canary (several invocations)
    run = world.deploy(v2, handler_override=measured)

    # THEN it succeeded, every invocation made at most one DescribeEndpoint wait step
    # (the first reads the endpoint once before acting), and none let time pass
    assert run.status == "Succeeded"
    assert run.invocations > 3
    assert all(describes <= 1 for describes, _ in per_invocation)
    assert all(elapsed == 0 for _, elapsed in per_invocation)


# --- item 3: rollback past the bad fleet's alarms ---------------------------------------------


def test_a_rollback_replaces_the_fleet_at_once_without_auto_rollback_alarms(
    world: ActionWorld,
) -> None:
    # GIVEN version 2 live after version 1
    v1, v2 = world.register(), world.register()
    world.deploy(v1)
    world.deploy(v2)

    # WHEN version 1 is deployed again (a stage or rejection rollback)
    run = world.deploy(v1)

    # THEN the update went ALL_AT_ONCE with no AutoRollbackConfiguration
    assert run.status == "Succeeded"
    assert world.emulator.update_requests[-1]["DeploymentConfig"] == deployment_config(
        Rollout(type="ALL_AT_ONCE"), ()
    )


def test_a_rollback_lands_the_previous_version_while_the_bad_one_trips_the_alarms(
    world: ActionWorld,
) -> None:
    # GIVEN version 1 live, then version 2 live, which then starts raising 5XX errors
    v1, v2 = world.register(), world.register()
    world.deploy(v1)
    world.deploy(v2)
    world.emulator.declare_behaviour(v2, healthy=False)
    world.emulator.clock.sleep(120)
    assert world.alarm_state(ALARM_5XX) == "ALARM"

    # WHEN the stage rolls back to version 1
    run = world.deploy(v1)

    # THEN version 1 serves: the guardrail watching the bad fleet did not undo it
    assert run.status == "Succeeded", run.message
    assert world.endpoint()["EndpointConfigName"] == _config_of(run)


def test_a_forward_deploy_while_an_alarm_is_in_alarm_replaces_the_fleet_at_once(
    world: ActionWorld,
) -> None:
    # GIVEN version 1 live and failing (its alarm in ALARM), and a fixed version 2
    v1, v2 = world.register(), world.register()
    world.deploy(v1)
    world.emulator.declare_behaviour(v1, healthy=False)
    world.emulator.clock.sleep(120)

    # WHEN version 2 is deployed
    run = world.deploy(v2)

    # THEN it lands, with no auto-rollback alarm that the old fleet would trip
    assert run.status == "Succeeded", run.message
    assert "AutoRollbackConfiguration" not in world.emulator.update_requests[-1]["DeploymentConfig"]


# --- item 7: a busy endpoint is waited out ------------------------------------------------------


def test_deploy_waits_while_the_endpoint_is_updating_then_rolls_back(world: ActionWorld) -> None:
    # GIVEN version 1 live and a canary of version 2 still Updating (its execution was
    # stopped; SageMaker's update goes on)
    v1, v2 = world.register(), world.register()
    first = world.deploy(v1)
    name = "v2-canary"
    world.sagemaker.create_model(
        ModelName=name,
        Containers=[{"ModelPackageName": v2}],
        ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
    )
    world.sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 3,
            }
        ],
    )
    world.emulator.update_endpoint(
        EndpointName=ENDPOINT,
        EndpointConfigName=name,
        DeploymentConfig=deployment_config(world.deploy_parameters(v2).rollout, STAGE_ALARMS),
    )
    assert world.endpoint()["EndpointStatus"] == "Updating"

    # WHEN the rejection rollback deploys version 1
    run = world.deploy(v1)

    # THEN Deploy waited with continuation tokens, then rolled back: version 1 serves
    assert run.status == "Succeeded", run.message
    assert run.answers[0].status == "InProgress"
    assert world.endpoint()["EndpointStatus"] == "InService"
    serving = world.sagemaker.describe_endpoint_config(
        EndpointConfigName=world.endpoint()["EndpointConfigName"]
    )["ProductionVariants"][0]["ModelName"]
    assert (
        world.sagemaker.describe_model(ModelName=serving)["Containers"][0]["ModelPackageName"] == v1
    )
    assert first.status == "Succeeded"


# --- item 4: a Failed endpoint is recovered ------------------------------------------------------


def test_deploy_deletes_an_endpoint_left_failed_and_creates_it_again(world: ActionWorld) -> None:
    # GIVEN an endpoint left Failed by a version whose instances never started
    broken, fixed = world.register(), world.register()
    world.emulator.declare_behaviour(broken, startup_failure="The primary container failed ping")
    assert world.deploy(broken).status == "Failed"
    assert world.endpoint()["EndpointStatus"] == "Failed"

    # WHEN the next version is deployed
    run = world.deploy(fixed)

    # THEN Deploy deleted the endpoint, created it on a later invocation, and it serves
    assert run.status == "Succeeded", run.message
    assert run.answers[0].status == "InProgress"
    assert world.endpoint()["EndpointStatus"] == "InService"
    assert world.endpoint()["EndpointConfigName"] == _config_of(run)
    assert [e.what for e in world.emulator.events].count("create") == 2
