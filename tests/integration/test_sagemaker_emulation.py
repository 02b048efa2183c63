"""The emulated SageMaker endpoints and CloudWatch alarms refuse and do what AWS does
(docs/aws-behaviour.md, SageMaker and CloudWatch)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from action_fixtures import ALARM_5XX, ENDPOINT, STAGE_ALARMS, ActionWorld, action_world
from botocore.exceptions import ClientError

from deploy.rollout import deployment_config
from pipeline_scripts.emulation.service import ServiceRoutes
from shared.parameters import Rollout

pytestmark = pytest.mark.integration

ARN_PREFIX = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/"
CANARY = Rollout(type="CANARY", percent=10, wait_seconds=300, termination_wait_seconds=120)


@pytest.fixture
def world() -> Iterator[ActionWorld]:
    with action_world() as built:
        yield built


@pytest.fixture
def routed(world: ActionWorld) -> Iterator[ActionWorld]:
    """The world with the CloudWatch API hooks the sandbox installs."""
    routes = ServiceRoutes()
    alarms = world.emulator.alarms
    routes.wrap("cloudwatch", "PutMetricAlarm", after=alarms.created)
    routes.wrap("cloudwatch", "SetAlarmState", after=alarms.set_by_hand)
    routes.wrap("cloudwatch", "DescribeAlarms", before=lambda _p: world.emulator.tick())
    routes.wrap("sagemaker", "CreateEndpoint", before=world.emulator.refuse_existing)
    try:
        yield world
    finally:
        routes.uninstall()


def _config_for(world: ActionWorld, arn: str, name: str) -> str:
    world.sagemaker.create_model(
        ModelName=name,
        Containers=[{"ModelPackageName": arn}],
        ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
    )
    world.sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 2,
            }
        ],
    )
    return name


def _live(world: ActionWorld, arn: str, name: str = "v1") -> str:
    """Create the endpoint on ``arn`` and let it come InService."""
    config = _config_for(world, arn, name)
    world.emulator.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config)
    world.emulator.clock.sleep(world.emulator.provisioning.total_seconds())
    return config


def _update(world: ActionWorld, config: str, rollout: Rollout = CANARY) -> None:
    world.emulator.update_endpoint(
        EndpointName=ENDPOINT,
        EndpointConfigName=config,
        DeploymentConfig=deployment_config(rollout, STAGE_ALARMS),
    )


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


# --- guardrails ------------------------------------------------------------------------


def test_an_alarm_raised_by_the_old_fleet_trips_the_update_back_to_the_old_config(
    world: ActionWorld,
) -> None:
    # GIVEN a live version 1 that raises the 5XX alarm, and a healthy version 2
    v1, v2 = world.register(), world.register()
    world.emulator.declare_behaviour(v1, healthy=False)
    old = _live(world, v1)
    world.emulator.clock.sleep(120)
    assert world.alarm_state(ALARM_5XX) == "ALARM"

    # WHEN version 2 is rolled out with the stage's alarms as auto-rollback alarms
    _update(world, _config_for(world, v2, "v2"))
    world.emulator.clock.sleep(3600)

    # THEN the guardrail, which watches both fleets, sent traffic back to version 1:
    # InService on the old config, with no FailureReason
    endpoint = world.endpoint()
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == old
    assert "FailureReason" not in endpoint
    assert [e.what for e in world.emulator.events][-1] == "rolled-back"


def test_an_alarm_already_in_alarm_trips_the_update_at_its_first_traffic_shift(
    world: ActionWorld,
) -> None:
    # GIVEN version 1 live and the 5XX alarm in ALARM before the update starts
    v1, v2 = world.register(), world.register()
    old = _live(world, v1)
    world.cloudwatch.set_alarm_state(
        AlarmName=ALARM_5XX, StateValue="ALARM", StateReason="Threshold Crossed: drill"
    )

    # WHEN version 2 is rolled out
    started = world.clock.now()
    _update(world, _config_for(world, v2, "v2"))
    world.emulator.clock.sleep(3600)

    # THEN it rolled back as soon as traffic first shifted, to the old config
    assert world.endpoint()["EndpointConfigName"] == old
    rolled_back = world.emulator.events[-1]
    assert rolled_back.what == "rolled-back"
    assert rolled_back.at == started + world.emulator.provisioning


def test_canary_bakes_the_canary_then_the_full_fleet_then_waits_before_terminating(
    world: ActionWorld,
) -> None:
    # GIVEN version 1 live and version 2 rolling out as a 10 % canary, 300 s waits and a
    # 120 s termination wait
    v1, v2 = world.register(), world.register()
    _live(world, v1)
    started = world.clock.now()
    new = _config_for(world, v2, "v2")
    _update(world, new)
    traffic_at = started + world.emulator.provisioning

    # WHEN time passes to just before the end (canary bake, full-fleet bake, termination)
    end = traffic_at + timedelta(seconds=300 + 300 + 120)
    world.emulator.clock.sleep((end - world.clock.now()).total_seconds() - 1)

    # THEN the endpoint is still Updating on the old config; one second later it is
    # InService on the new one
    assert world.endpoint()["EndpointStatus"] == "Updating"
    world.emulator.clock.sleep(1)
    assert world.endpoint()["EndpointStatus"] == "InService"
    assert world.endpoint()["EndpointConfigName"] == new
    assert world.emulator.events[-1].at == end


# --- endpoint states --------------------------------------------------------------------


def test_update_endpoint_is_refused_while_the_endpoint_is_creating(world: ActionWorld) -> None:
    # GIVEN an endpoint still Creating
    v1 = world.register()
    config = _config_for(world, v1, "v1")
    world.emulator.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config)

    # WHEN it is updated
    with pytest.raises(ClientError) as raised:
        _update(world, config)

    # THEN SageMaker refuses it, naming the endpoint's ARN as AWS does
    assert _error(raised) == (
        "ValidationException",
        f'Cannot update in-progress endpoint "{ARN_PREFIX}{ENDPOINT}".',
    )


def test_a_failed_endpoint_refuses_update_and_create_and_accepts_only_delete(
    routed: ActionWorld,
) -> None:
    # GIVEN an endpoint left Failed by a version whose instances never started
    world = routed
    bad, good = world.register(), world.register()
    world.emulator.declare_behaviour(bad, startup_failure="The primary container failed ping")
    _live(world, bad)
    assert world.endpoint()["EndpointStatus"] == "Failed"
    config = _config_for(world, good, "good")

    # WHEN it is updated, or created again under its name
    with pytest.raises(ClientError) as updated:
        _update(world, config)
    with pytest.raises(ClientError) as created:
        world.sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config)

    # THEN both are refused; DeleteEndpoint works, and then CreateEndpoint does
    assert _error(updated) == (
        "ValidationException",
        f'Cannot update failed endpoint "{ARN_PREFIX}{ENDPOINT}". '
        "DeleteEndpoint is the only operation that can be performed on a failed endpoint.",
    )
    assert _error(created) == (
        "ValidationException",
        f'Cannot create already existing endpoint "{ARN_PREFIX}{ENDPOINT}".',
    )
    world.sagemaker.delete_endpoint(EndpointName=ENDPOINT)
    world.emulator.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config)
    world.emulator.clock.sleep(world.emulator.provisioning.total_seconds())
    assert world.endpoint()["EndpointStatus"] == "InService"


# --- CloudWatch -------------------------------------------------------------------------


def test_a_new_alarm_starts_insufficient_data_until_its_first_evaluation(
    routed: ActionWorld,
) -> None:
    # GIVEN no endpoint yet (no datapoints) and an alarm that treats missing data as OK
    world = routed

    # WHEN the alarm is created
    world.cloudwatch.put_metric_alarm(
        AlarmName="new-alarm",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.05,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )

    # THEN it is INSUFFICIENT_DATA, and OK after one period
    assert world.alarm_state("new-alarm") == "INSUFFICIENT_DATA"
    world.emulator.clock.sleep(60)
    assert world.alarm_state("new-alarm") == "OK"


def test_an_alarm_set_by_hand_returns_to_its_metrics_state_after_one_period(
    routed: ActionWorld,
) -> None:
    # GIVEN a healthy version serving the endpoint
    world = routed
    _live(world, world.register())

    # WHEN a drill sets its 5XX alarm to ALARM
    world.cloudwatch.set_alarm_state(
        AlarmName=ALARM_5XX, StateValue="ALARM", StateReason="Threshold Crossed: drill"
    )

    # THEN it stays ALARM, stamped on the virtual clock, until its next evaluation
    # (one 60 s period), then returns to OK: a drill never leaves it stuck
    alarm = world.cloudwatch.describe_alarms(AlarmNames=[ALARM_5XX])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateUpdatedTimestamp"] == world.clock.now()
    world.emulator.clock.sleep(59)
    assert world.alarm_state(ALARM_5XX) == "ALARM"
    world.emulator.clock.sleep(1)
    assert world.alarm_state(ALARM_5XX) == "OK"


def test_a_drill_on_an_alarm_a_bad_version_raises_leaves_it_in_alarm(
    routed: ActionWorld,
) -> None:
    # GIVEN a bad version serving and tripping its 5XX alarm
    world = routed
    bad = world.register()
    world.emulator.declare_behaviour(bad, healthy=False)
    _live(world, bad)
    world.emulator.clock.sleep(120)

    # WHEN someone sets the alarm to OK by hand
    world.cloudwatch.set_alarm_state(
        AlarmName=ALARM_5XX, StateValue="OK", StateReason="silenced by hand"
    )

    # THEN the next evaluation puts it back in ALARM: the metrics still breach
    world.emulator.clock.sleep(60)
    assert world.alarm_state(ALARM_5XX) == "ALARM"
