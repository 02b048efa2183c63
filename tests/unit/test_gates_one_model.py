"""The governance gates are one model: what ``cdk.json`` may require is exactly what the
approval trigger reads back from the group's registry entry, so the two cannot drift apart.

Before, the config parser kept its own list of reports and the trigger another: a report
added to the parser's list passed synth, and then the trigger refused its own settings
at cold start and every approval went to the dead-letter queue.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared import contract, gates
from shared.config import CONTEXT_KEY, ConfigError, parse_config
from shared.group_registry import GroupEntry, RegistryError
from shared.settings import TriggerConfig

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def _context(required_reports: list[str]) -> dict[str, Any]:
    """The shipped ``cdk.json`` context, its first group's gates requiring ``required_reports``."""
    context = json.loads(CDK_JSON.read_text())["context"][CONTEXT_KEY]
    group = context["modelGroups"][0]
    group["gates"] = {"requiredReports": required_reports, "separationOfDuties": True}
    context["modelGroups"] = [group]
    return dict(context)


#: The shared trigger's environment as the shared stack writes it.
ENVIRON = {
    contract.ENV_LEDGER_TABLE: "ledger",
    contract.ENV_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:greenlight",
}


def _entry(gates_json: str) -> GroupEntry:
    """The group's registry entry as its stack writes it (``Gates.to_json``)."""
    return GroupEntry(
        group="churn",
        pipeline_name="greenlight-churn",
        stages=("staging",),
        gates=json.loads(gates_json),
    )


def _synth_then_cold_start(required_reports: list[str]) -> tuple[gates.Gates, gates.Gates]:
    """The gates the config parser builds, and those the trigger reads back."""
    configured = parse_config(_context(required_reports)).model_groups[0].gates
    read_back = TriggerConfig.for_group(ENVIRON, _entry(configured.to_json())).gates
    return configured, read_back


@pytest.mark.parametrize("report", list(gates.REPORT_SOURCES))
def test_every_report_the_config_accepts_the_trigger_reads_back_unchanged(report: str) -> None:
    # GIVEN a group whose gates require one report the config accepts
    # WHEN the config is parsed and the trigger reads its gates back at cold start
    configured, read_back = _synth_then_cold_start([report])

    # THEN the trigger holds the same gates, of the one gates model
    assert read_back == configured
    assert read_back.required_reports == (report,)
    assert type(configured) is type(read_back) is gates.Gates


def test_a_report_added_to_the_one_list_is_accepted_by_the_config_and_the_trigger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a new report added where reports are defined (the change that used to reach
    # only one of the two lists)
    monkeypatch.setitem(gates.REPORT_SOURCES, "DataLineage", ("Report",))  # type: ignore[index]

    # WHEN a group requires it, the config is parsed and the trigger starts
    configured, read_back = _synth_then_cold_start(["Bias", "DataLineage"])

    # THEN both sides accept it: no cold start refuses its own settings
    assert read_back == configured
    assert read_back.required_reports == ("Bias", "DataLineage")


def test_a_report_outside_the_one_list_is_refused_by_the_config_before_synth() -> None:
    # GIVEN a group that requires a report the gates do not know
    # WHEN the config is parsed
    with pytest.raises(ConfigError) as caught:
        parse_config(_context(["Fairness"]))

    # THEN it is refused there, naming the key and the reports the trigger can check
    assert str(caught.value) == (
        "greenlight.modelGroups[0].gates.requiredReports[0]: expected one of "
        'ModelQuality, ModelDataQuality, Bias, Explainability, got string "Fairness"'
    )


def test_the_trigger_refuses_a_registry_entry_naming_a_report_outside_the_one_list() -> None:
    # GIVEN a group's registry entry naming a report the gates do not know
    entry = _entry('{"requiredReports":["Fairness"]}')

    # WHEN the trigger reads the group's settings
    with pytest.raises(RegistryError) as caught:
        TriggerConfig.for_group(ENVIRON, entry)

    # THEN it names the parameter and the unknown report
    assert str(caught.value) == (
        "group registry /greenlight/groups/churn: gates.requiredReports: unknown report(s) "
        "Fairness; expected some of ModelQuality, ModelDataQuality, Bias, Explainability"
    )
