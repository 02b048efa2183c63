"""The group registry the shared trigger and recorder read: one SSM parameter per group."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from shared import contract
from shared.group_registry import (
    MAX_AGE,
    GroupEntry,
    GroupRegistry,
    PerGroup,
    RegistryError,
    UnknownGroup,
)

ENTRY = GroupEntry(
    group="houses",
    pipeline_name="greenlight-houses",
    stages=("staging", "production"),
    gates={"requiredReports": ["Bias"], "separationOfDuties": True},
)


def test_an_entry_reads_back_what_the_stack_writes() -> None:
    assert GroupEntry.from_json("p", ENTRY.to_json()) == ENTRY


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "expected JSON"),
        ("[]", "expected a JSON object"),
        ('{"group":"houses","pipelineName":"p","stages":[]}', "stages: expected a non-empty list"),
        ('{"group":"houses","stages":["a"]}', "pipelineName: expected a non-empty string"),
        ('{"group":"h","pipelineName":"p","stages":["a"],"gates":[]}', "gates: expected an object"),
    ],
)
def test_an_entry_that_is_not_what_a_stack_writes_is_refused_naming_the_parameter(
    text: str, problem: str
) -> None:
    with pytest.raises(RegistryError, match=problem) as raised:
        GroupEntry.from_json("/greenlight/groups/houses", text)
    assert str(raised.value).startswith("group registry /greenlight/groups/houses: ")


def test_the_registry_reads_each_group_once_and_knows_an_unregistered_one() -> None:
    with mock_aws():
        # GIVEN one group's entry in SSM, and a registry counting its reads
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(
            Name=contract.group_registry_parameter("houses"), Value=ENTRY.to_json(), Type="String"
        )
        reads: list[str] = []
        ssm.meta.events.register("before-call.ssm.GetParameter", lambda **_: reads.append("get"))
        registry = GroupRegistry(ssm=ssm)

        # WHEN the group is asked for twice, and another group once
        first, second = registry.entry("houses"), registry.entry("houses")
        missing = registry.entry("churn")

        # THEN the entry is read once, and the other group has none
        assert first == second == ENTRY
        assert missing is None
        assert reads == ["get", "get"]
        with pytest.raises(UnknownGroup, match="/greenlight/groups/churn"):
            registry.require("churn")


def test_one_instance_per_group_is_built_from_its_entry() -> None:
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(
            Name=contract.group_registry_parameter("houses"), Value=ENTRY.to_json(), Type="String"
        )
        built: list[str] = []

        def build(entry: GroupEntry) -> str:
            built.append(entry.group)
            return f"trigger of {entry.pipeline_name}"

        per_group = PerGroup(build, registry=GroupRegistry(ssm=ssm))
        assert per_group("houses") == per_group("houses") == "trigger of greenlight-houses"
        assert built == ["houses"]


@pytest.mark.parametrize(
    ("pipeline", "group"),
    [("greenlight-houses", "houses"), ("greenlight-", None), ("someone-else", None)],
)
def test_the_group_of_a_pipeline_is_its_name_after_the_greenlight_prefix(
    pipeline: str, group: str | None
) -> None:
    assert contract.group_of_pipeline(pipeline) == group


def test_a_long_group_name_gets_a_rule_name_within_64_characters() -> None:
    group = "g" * 63
    name = contract.approval_rule_name(group)
    assert len(name) == contract.RULE_NAME_MAX
    assert name.startswith(contract.NAME_PREFIX)
    assert name != contract.approval_rule_name("g" * 62 + "h")


class _Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def test_a_changed_entry_reaches_a_warm_container_within_the_registry_s_max_age() -> None:
    with mock_aws():
        # GIVEN a warm trigger built from a group's entry without gates
        ssm = boto3.client("ssm", region_name="us-east-1")
        parameter = contract.group_registry_parameter("houses")
        ungated = replace(ENTRY, gates={})
        ssm.put_parameter(Name=parameter, Value=ungated.to_json(), Type="String")
        clock = _Clock()
        per_group = PerGroup(
            lambda entry: dict(entry.gates), registry=GroupRegistry(ssm=ssm, clock=clock)
        )
        assert per_group("houses") == {}

        # WHEN the group's stack update turns a gate on
        ssm.put_parameter(Name=parameter, Value=ENTRY.to_json(), Type="String", Overwrite=True)

        # THEN the warm container keeps its entry for less than the max age, and acts on
        # the new gates once it has passed
        clock.sleep(MAX_AGE.total_seconds() - 1)
        assert per_group("houses") == {}
        clock.sleep(1)
        assert per_group("houses") == dict(ENTRY.gates)
