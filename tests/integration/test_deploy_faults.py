"""Deploy under transient faults: no half deployment (issue 9, "What to build" item 2).

Throttling, 5xx and a lost answer are transient: Deploy resumes from what the endpoint
shows (its continuation state and DescribeEndpoint) and fails only on a real failure.
The faults here are injected at the client, after the SDK's own retries gave up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from action_fixtures import ALARM_5XX, ActionWorld, action_world
from botocore.exceptions import ClientError

from shared import contract

pytestmark = pytest.mark.integration

THROTTLE = ("ThrottlingException", "Rate exceeded", 400)
INTERNAL = ("InternalFailure", "The request processing has failed.", 500)
DENIED = ("AccessDeniedException", "User is not authorized to perform: UpdateEndpoint", 400)


class Flaky:
    """A SageMaker client whose ``method`` fails on its ``at``-th call: ``before`` the
    call runs, or ``after`` it took effect (its answer lost)."""

    def __init__(
        self, inner: Any, method: str, error: tuple[str, str, int], *, at: int, after: bool
    ) -> None:
        self._inner = inner
        self._method = method
        self._error = error
        self._at = at
        self._after = after
        self.calls = 0
        self.exceptions = inner.exceptions

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name != self._method:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls != self._at:
                return attribute(*args, **kwargs)
            if self._after:
                attribute(*args, **kwargs)
            code, message, status = self._error
            raise ClientError(
                {
                    "Error": {"Code": code, "Message": message},
                    "ResponseMetadata": {"HTTPStatusCode": status},
                },
                "".join(part.title() for part in name.split("_")),
            )

        return call


@pytest.fixture
def world() -> Iterator[ActionWorld]:
    with action_world() as built:
        yield built


def _flaky(
    world: ActionWorld, method: str, error: tuple[str, str, int], *, at: int, after: bool = False
) -> Flaky:
    return Flaky(world.emulator.sagemaker_client(), method, error, at=at, after=after)


def test_a_throttled_describe_after_the_update_took_effect_does_not_fail_the_deploy(
    world: ActionWorld,
) -> None:
    # GIVEN version 1 live, and DescribeEndpoint throttled on Deploy's first poll of v2
    v1, v2 = world.register(), world.register()
    assert world.deploy(v1).status == "Succeeded"
    flaky = _flaky(world, "describe_endpoint", THROTTLE, at=2)

    # WHEN version 2 is deployed
    run = world.deploy(v2, sagemaker=flaky)

    # THEN the throttle was waited out: v2 is live and Deploy succeeded with one update
    assert flaky.calls > 2
    assert run.status == "Succeeded", run.message
    assert (
        world.endpoint()["EndpointConfigName"]
        == run.output_variables[contract.OUT_ENDPOINT_CONFIG_NAME]
    )
    assert len(world.emulator.update_requests) == 1


def test_a_5xx_before_acting_waits_and_then_deploys(world: ActionWorld) -> None:
    # GIVEN version 1 live, and the first DescribeEndpoint of v2's deploy failing with a 5xx
    v1, v2 = world.register(), world.register()
    assert world.deploy(v1).status == "Succeeded"
    flaky = _flaky(world, "describe_endpoint", INTERNAL, at=1)

    # WHEN version 2 is deployed
    run = world.deploy(v2, sagemaker=flaky)

    # THEN it succeeded on a later invocation
    assert run.status == "Succeeded", run.message
    assert len(world.emulator.update_requests) == 1


def test_an_update_whose_answer_was_lost_resumes_from_the_endpoint(world: ActionWorld) -> None:
    # GIVEN version 1 live, and UpdateEndpoint for v2 taking effect but answering 500
    v1, v2 = world.register(), world.register()
    assert world.deploy(v1).status == "Succeeded"
    flaky = _flaky(world, "update_endpoint", INTERNAL, at=1, after=True)

    # WHEN version 2 is deployed
    run = world.deploy(v2, sagemaker=flaky)

    # THEN Deploy saw the update in progress, waited for it and succeeded: one update only
    assert run.status == "Succeeded", run.message
    assert len(world.emulator.update_requests) == 1
    assert (
        world.endpoint()["EndpointConfigName"]
        == run.output_variables[contract.OUT_ENDPOINT_CONFIG_NAME]
    )


def test_an_update_refused_before_it_ran_is_made_again_with_the_same_names(
    world: ActionWorld,
) -> None:
    # GIVEN version 1 live, and UpdateEndpoint for v2 throttled before it ran
    v1, v2 = world.register(), world.register()
    assert world.deploy(v1).status == "Succeeded"
    flaky = _flaky(world, "update_endpoint", THROTTLE, at=1)

    # WHEN version 2 is deployed
    run = world.deploy(v2, sagemaker=flaky)

    # THEN the update was made once, later, on the config the first attempt created
    assert run.status == "Succeeded", run.message
    [request] = world.emulator.update_requests
    assert request["EndpointConfigName"] == run.output_variables[contract.OUT_ENDPOINT_CONFIG_NAME]
    assert sum(name.startswith("house-price-production-v2-") for name in world.config_names()) == 1


def test_a_create_whose_answer_was_lost_resumes_and_deploys_the_first_version(
    world: ActionWorld,
) -> None:
    # GIVEN no endpoint, and CreateEndpoint taking effect but answering 500
    v1 = world.register()
    flaky = _flaky(world, "create_endpoint", INTERNAL, at=1, after=True)

    # WHEN version 1 is deployed
    run = world.deploy(v1, sagemaker=flaky)

    # THEN Deploy waited for the endpoint it created and succeeded
    assert run.status == "Succeeded", run.message
    assert flaky.calls == 1
    assert world.endpoint()["EndpointStatus"] == "InService"


def test_a_lost_answer_then_a_guardrail_rollback_fails_naming_the_alarm_without_a_second_rollout(
    world: ActionWorld,
) -> None:
    # GIVEN version 1 live, a v2 that raises 5XX errors, and v2's update answer lost
    v1, v2 = world.register(), world.register()
    assert world.deploy(v1).status == "Succeeded"
    world.emulator.declare_behaviour(v2, healthy=False)
    flaky = _flaky(world, "update_endpoint", INTERNAL, at=1, after=True)

    # WHEN version 2 is deployed
    run = world.deploy(v2, sagemaker=flaky)

    # THEN the endpoint stayed on v1 and Deploy failed naming the endpoint and the alarm,
    # without rolling v2 out a second time
    assert run.status == "Failed"
    assert run.message is not None
    assert "house-price-production rolled back" in run.message
    assert ALARM_5XX in run.message
    assert len(world.emulator.update_requests) == 1


def test_a_real_failure_still_fails_at_once_naming_the_error(world: ActionWorld) -> None:
    # GIVEN version 1 live, and UpdateEndpoint denied to Deploy's role
    v1, v2 = world.register(), world.register()
    assert world.deploy(v1).status == "Succeeded"
    flaky = _flaky(world, "update_endpoint", DENIED, at=1)

    # WHEN version 2 is deployed
    run = world.deploy(v2, sagemaker=flaky)

    # THEN Deploy failed on that invocation, naming the denial
    assert run.status == "Failed"
    assert run.message is not None
    assert "AccessDeniedException" in run.message
    assert world.emulator.update_requests == []
