"""Sized for growth: what one more group costs, and every stack within CloudFormation's
limits at a hundred groups.

Each group is its own stack and imports the shared stack's functions by export name, so
adding a group adds only that stack. The counts are printed (``pytest -s``) for the
record; the bench (``make bench``) times the synthesis.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Final

import pytest

from shared import contract
from tests.synthesis import StackView, Synthesized

pytestmark = pytest.mark.infrastructure

#: What one more group may add (issue #10).
MAX_RESOURCES_PER_GROUP: Final = 15
MAX_ROLES_PER_GROUP: Final = 2
MAX_FUNCTIONS_PER_GROUP: Final = 0
#: CloudFormation's quotas per stack (the template uploaded through S3, as `cdk deploy`
#: does for a template over 51,200 bytes).
MAX_RESOURCES_PER_STACK: Final = 500
MAX_TEMPLATE_BYTES: Final = 1_000_000
MAX_OUTPUTS_PER_STACK: Final = 200

Fleet = Callable[[int], Synthesized]


def _types(app: Synthesized) -> Counter[str]:
    return Counter(
        resource["Type"]
        for stack in app.every_stack()
        for resource in stack.template_json["Resources"].values()
    )


def _delta(fleet: Fleet, before: int) -> Counter[str]:
    added = _types(fleet(before + 1))
    added.subtract(_types(fleet(before)))
    return +added


@pytest.mark.parametrize("before", [1, 10])
def test_one_more_group_adds_at_most_15_resources_2_roles_and_no_function(
    fleet: Fleet, before: int
) -> None:
    # GIVEN the app with `before` groups, and with one more
    # WHEN their synthesized resources are counted
    added = _delta(fleet, before)
    print(f"\n{before} -> {before + 1} groups adds {added.total()}: {dict(sorted(added.items()))}")

    # THEN the added group costs what it owns and no more
    assert added.total() <= MAX_RESOURCES_PER_GROUP, added
    assert added["AWS::IAM::Role"] <= MAX_ROLES_PER_GROUP, added
    assert added["AWS::Lambda::Function"] == MAX_FUNCTIONS_PER_GROUP, added


def test_adding_a_group_changes_no_other_stack(fleet: Fleet) -> None:
    # GIVEN the apps of 10 and of 11 groups
    ten, eleven = fleet(10), fleet(11)

    # THEN the shared stack's template and every earlier group's are the same in both
    assert eleven.shared.template_json == ten.shared.template_json
    for name, stack in ten.groups.items():
        assert eleven.group(name).template_json == stack.template_json, name
    # AND the new group is one more stack, named for it
    (added,) = set(eleven.groups) - set(ten.groups)
    assert eleven.group(added).name == contract.group_stack_name(added)


def _limits(stack: StackView, synthesized: Synthesized) -> tuple[int, int, int]:
    template = synthesized.outdir / f"{stack.name}.template.json"
    document = json.loads(template.read_text())
    return (
        len(document["Resources"]),
        template.stat().st_size,
        len(document.get("Outputs", {})),
    )


def test_a_hundred_groups_stay_within_every_stacks_cloudformation_limits(fleet: Fleet) -> None:
    # GIVEN the app for a hundred groups (cdk-nag already passed: synthesis would fail)
    hundred = fleet(100)
    assert len(hundred.groups) == 100

    # WHEN each stack's template is measured
    measured = {stack.name: _limits(stack, hundred) for stack in hundred.every_stack()}
    largest = max(measured.values())
    print(f"\n100 groups: {len(measured)} stacks; largest (resources, bytes, outputs) {largest}")

    # THEN none is over CloudFormation's resource, size or output quota
    for name, (resources, size, outputs) in measured.items():
        assert resources <= MAX_RESOURCES_PER_STACK, (name, resources)
        assert size <= MAX_TEMPLATE_BYTES, (name, size)
        assert outputs <= MAX_OUTPUTS_PER_STACK, (name, outputs)


def test_a_hundred_groups_leave_the_cdk_nag_report_clean(fleet: Fleet) -> None:
    report = json.loads((fleet(100).outdir / "validation-report.json").read_text())
    violations = [v for plugin in report["pluginReports"] for v in plugin.get("violations", [])]
    assert violations == []


def test_every_group_stack_deploys_after_the_shared_stack(fleet: Fleet) -> None:
    # `cdk deploy --all` orders stacks by their dependencies in the cloud assembly.
    app = fleet(2)
    manifest = json.loads((app.outdir / "manifest.json").read_text())
    for name, stack in app.groups.items():
        dependencies = manifest["artifacts"][stack.name].get("dependencies", [])
        assert contract.STACK_NAME in dependencies, name
