"""The multi-account scenario: staging and production each in an account of its own.

The variant of the app it runs names the sandbox's account as the tooling account and
puts the first stage in ``STAGING_ACCOUNT`` and the last in ``PRODUCTION_ACCOUNT``. The
functions reach each stage through its target stack's deployment role, under the IAM
check: a trust the template does not grant fails the stage with AccessDenied.
"""

from __future__ import annotations

from typing import Any

from pipeline_scripts.sandbox.accounts import (
    ACCOUNT_ID,
    PRODUCTION_ACCOUNT,
    REGION,
    STAGING_ACCOUNT,
)
from pipeline_scripts.sandbox.story import Story
from shared import contract


def place_stages_in_their_own_accounts(settings: dict[str, Any]) -> None:
    """The ``greenlight`` context, changed in place: staging and production elsewhere."""
    settings["toolingAccount"] = ACCOUNT_ID
    settings["toolingRegion"] = REGION
    stages = settings["modelGroups"][0]["stages"]
    stages[0]["account"] = STAGING_ACCOUNT
    stages[-1]["account"] = PRODUCTION_ACCOUNT


def stages_in_their_own_accounts(story: Story) -> None:
    v1 = story.register("first house-price model, deployed across accounts")
    story.approve(v1, "validation RMSE within target")
    story.settle(approve_stages=True)
    for stage in (story.first_stage, story.last_stage):
        story.expect(f"{v1} is live in {stage}", story.live(stage) == v1.number)
    placed = {stage.name: stage.account or ACCOUNT_ID for stage in story.stages}
    accounts = (ACCOUNT_ID, STAGING_ACCOUNT, PRODUCTION_ACCOUNT)
    for account in accounts:
        here = [name for name, where in placed.items() if where == account]
        endpoints = _endpoints(story, account)
        expected = sorted(story.stage(name).endpoint for name in here)
        story.expect(
            f"account {account} holds exactly its stages' endpoints {expected}",
            endpoints == expected,
            str(endpoints),
        )
        alarms = _alarm_stages(story, account)
        story.expect(
            f"account {account} holds exactly its stages' alarms", alarms == set(here), str(alarms)
        )
        roles = _deployment_roles(story, account)
        expected_roles = [contract.deployment_role_name(REGION)] if here else []
        story.expect(
            f"account {account} holds {'its' if here else 'no'} deployment role",
            roles == expected_roles,
            str(roles),
        )
    story.expect("no event was lost", not story.sandbox.runtime.dead_letters)


def _endpoints(story: Story, account: str) -> list[str]:
    sagemaker = story.sandbox.client("sagemaker", account=account)
    return sorted(e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"])


def _alarm_stages(story: Story, account: str) -> set[str]:
    """The stages whose alarms live in ``account``."""
    cloudwatch = story.sandbox.client("cloudwatch", account=account)
    names = [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]]
    return {
        stage.name
        for stage in story.stages
        for name in names
        if name.startswith(contract.alarm_name(story.group, stage.name, ""))
    }


def _deployment_roles(story: Story, account: str) -> list[str]:
    iam = story.sandbox.client("iam", account=account)
    prefix = contract.deployment_role_name("")
    return sorted(
        r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(prefix)
    )
