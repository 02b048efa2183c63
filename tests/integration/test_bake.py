"""The Bake action: the stage's alarms watched for the configured minutes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from action_fixtures import (
    ALARM_LATENCY,
    ALL_AT_ONCE,
    ENDPOINT,
    GROUP,
    STAGE,
    STAGE_ALARMS,
    ActionWorld,
    action_world,
)

from bake import logic as bake_logic
from pipeline_scripts.emulation.jobs import drive
from shared.parameters import BakeParameters

pytestmark = pytest.mark.integration


@pytest.fixture
def world() -> Iterator[ActionWorld]:
    with action_world() as built:
        yield built


def test_bake_succeeds_after_the_minutes_with_alarms_quiet(world: ActionWorld) -> None:
    # GIVEN a healthy live version
    arn = world.register()
    world.deploy(arn)
    started = world.clock.now()

    # WHEN Bake runs for 15 minutes
    run = world.bake(arn, minutes=15)

    # THEN it succeeded after at least 15 virtual minutes, through continuation tokens
    assert run.status == "Succeeded"
    assert (world.clock.now() - started).total_seconds() >= 15 * 60
    assert run.invocations > 1
    assert all(a.status == "InProgress" for a in run.answers[:-1])


def test_bake_fails_when_a_bad_version_trips_its_alarm_naming_it(world: ActionWorld) -> None:
    # GIVEN a version that passes the rollout (no baking wait) but raises 5XX once live
    arn = world.register()
    world.emulator.declare_behaviour(arn, healthy=False)
    assert world.deploy(arn, rollout=ALL_AT_ONCE).status == "Succeeded"

    # WHEN Bake watches the stage's alarms
    run = world.bake(arn, minutes=15)

    # THEN it fails naming the 5XX alarm and its reason, before the minutes are up
    assert run.status == "Failed"
    assert run.message is not None
    assert "alarm greenlight-house-price-linear-learner-production-5xx (Threshold Crossed" in (
        run.message
    )


def test_bake_fails_on_the_first_alarm_set_between_invocations(world: ActionWorld) -> None:
    # GIVEN a healthy live version, and the latency alarm tripping during the bake
    arn = world.register()
    world.deploy(arn)
    calls = {"n": 0}

    def trip_latency_on_third_invocation() -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            world.cloudwatch.set_alarm_state(
                AlarmName=ALARM_LATENCY,
                StateValue="ALARM",
                StateReason="Threshold Crossed: ModelLatency p99 above 500000",
            )

    # WHEN Bake runs
    run = world.bake(arn, minutes=30, between=trip_latency_on_third_invocation)

    # THEN it failed on the invocation that first saw the alarm, naming it and its reason
    assert run.status == "Failed"
    assert run.invocations == 3
    assert run.message is not None
    assert run.message.endswith(
        "alarm greenlight-house-price-linear-learner-production-latency "
        "(Threshold Crossed: ModelLatency p99 above 500000) is in ALARM"
    )


def test_bake_fails_naming_an_alarm_that_does_not_exist(world: ActionWorld) -> None:
    # GIVEN the stage's latency alarm was deleted
    arn = world.register()
    world.deploy(arn)
    world.cloudwatch.delete_alarms(AlarmNames=[ALARM_LATENCY])

    # WHEN Bake runs
    run = world.bake(arn)

    # THEN it fails naming the missing alarm
    assert run.status == "Failed"
    assert run.message == (
        "Bake raised UnknownAlarms: alarm(s) not found: "
        "greenlight-house-price-linear-learner-production-latency"
    )


def _raise_alarm(world: ActionWorld, name: str, at_seconds_ago: float) -> None:
    cloudwatch = world.emulator._cloudwatch()
    cloudwatch.set_alarm_state(name, "Threshold Crossed: replaced version", "{}", "ALARM")
    cloudwatch.alarms[name].state_updated_timestamp = world.clock.now() - timedelta(
        seconds=at_seconds_ago
    )


def test_bake_gives_an_alarm_left_by_the_replaced_version_its_window_to_clear(
    world: ActionWorld,
) -> None:
    # GIVEN a healthy version just rolled back to, and the latency alarm still in ALARM
    # from the version it replaced (raised before the bake began; a 10-minute window)
    arn = world.register()
    world.deploy(arn)
    world.emulator._cloudwatch().alarms[ALARM_LATENCY].evaluation_periods = 10
    _raise_alarm(world, ALARM_LATENCY, at_seconds_ago=30)

    def datapoints_age_out() -> None:
        world.emulator._cloudwatch().set_alarm_state(
            ALARM_LATENCY, "Threshold Crossed: datapoints aged out", "{}", "OK"
        )

    # WHEN Bake runs while the alarm clears within its evaluation window
    run = world.bake(arn, minutes=15, between=datapoints_age_out)

    # THEN the inherited alarm does not fail the bake
    assert run.status == "Succeeded"


def test_bake_fails_when_an_inherited_alarm_outlives_its_evaluation_window(
    world: ActionWorld,
) -> None:
    # GIVEN the latency alarm in ALARM since before the bake, and it never clears
    arn = world.register()
    world.deploy(arn)
    _raise_alarm(world, ALARM_LATENCY, at_seconds_ago=30)
    window = world.emulator._cloudwatch().alarms[ALARM_LATENCY]
    window_seconds = int(window.period) * int(window.evaluation_periods)
    started = world.clock.now()

    # WHEN Bake runs
    run = world.bake(arn, minutes=15)

    # THEN it fails, naming the alarm, once the window is over and not before
    assert run.status == "Failed"
    assert run.message is not None
    assert ALARM_LATENCY in run.message
    assert (world.clock.now() - started).total_seconds() >= window_seconds


class _NoSleep:
    """A clock for a function that must not wait inside an invocation."""

    def __init__(self, world: ActionWorld) -> None:
        self._clock = world.clock
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._clock.advance(seconds)


def test_bake_polls_once_per_invocation_and_never_waits_inside_one(world: ActionWorld) -> None:
    # GIVEN a healthy live version, and Bake on a clock that records every sleep
    arn = world.register()
    world.deploy(arn)
    clock = _NoSleep(world)
    described: list[int] = []
    cloudwatch = world.cloudwatch
    cloudwatch.meta.events.register(
        "before-call.cloudwatch.DescribeAlarms", lambda **_: described.append(1)
    )
    params = BakeParameters(
        group=GROUP,
        stage=STAGE,
        endpoint_name=ENDPOINT,
        model_package_arn=arn,
        alarm_names=STAGE_ALARMS,
        bake_minutes=5,
    )

    def handler(event: dict[str, Any], context: object) -> dict[str, str]:
        return bake_logic.run(event, codepipeline=world.jobs, cloudwatch=cloudwatch, clock=clock)

    # WHEN CodePipeline drives it, re-invoking 30 s after each continuation
    run = drive(
        handler,
        world.jobs,
        user_parameters=params.to_json(),
        between=lambda: world.clock.advance(30),
        max_invocations=100,
    )

    # THEN each invocation polled the alarms once and slept not at all
    assert run.status == "Succeeded"
    assert clock.slept == []
    assert len(described) == run.invocations == 5 * 2 + 1
