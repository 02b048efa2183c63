"""Every sandbox scenario, on the app as synthesized: the story holds end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_scripts.sandbox.scenarios import SCENARIOS

from .conftest import RunScenario

pytestmark = pytest.mark.e2e

#: The fault drills run in test_drills.py, where the ones awaiting a fix are marked so;
#: the multi-account scenario in test_stages_in_their_own_accounts.py, on its variant.
UNGATED = [s.name for s in SCENARIOS if not s.needs_gates and not s.needs_accounts and not s.drill]


@pytest.mark.parametrize("name", UNGATED)
def test_scenario_meets_every_expectation_on_the_example_app(
    name: str, example_out: Path, run_scenario: RunScenario
) -> None:
    # GIVEN the example app as cdk.json configures it
    # WHEN the scenario plays on a fresh sandbox
    result = run_scenario(name, example_out)

    # THEN every expectation it states held
    failed = [e.description + f" ({e.detail})" for e in result.expectations if not e.passed]
    assert result.expectations
    assert failed == []


def test_gate_refusal_scenario_on_an_app_with_gates_on(
    gated_out: Path, run_scenario: RunScenario
) -> None:
    # GIVEN an app whose first group requires reports and separation of duties
    # WHEN a version without reports is approved
    result = run_scenario("gate-refusal", gated_out)

    # THEN the gates refused it, nothing deployed, and the refusal was notified
    failed = [e.description + f" ({e.detail})" for e in result.expectations if not e.passed]
    assert result.expectations
    assert failed == []
