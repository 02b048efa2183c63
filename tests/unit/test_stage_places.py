"""Where the CLI says each stage runs, and how it reaches it."""

from __future__ import annotations

from typing import Any

from pipeline_scripts.stage_places import StagePlace, stage_places
from shared.config import parse_config
from tests.accounts_context import accounts_context


def _config(**top: Any) -> Any:
    """Production in its own account when the tooling account is named; else the
    single-account config."""
    context = accounts_context()
    if not top:
        del context["toolingAccount"], context["toolingRegion"]
        del context["modelGroups"][0]["stages"][1]["account"]
    return parse_config(context)


def test_each_stage_is_placed_in_its_account_and_read_through_its_reader_role() -> None:
    # GIVEN production in its own account
    config = _config(toolingAccount="111111111111", toolingRegion="us-east-1")
    # WHEN the CLI places the stages
    places = stage_places(config, "churn")
    # THEN staging is home, production there, read through its status reader role
    assert places["staging"] == StagePlace(account="111111111111", region="us-east-1")
    assert places["production"].label == "222222222222/us-east-1"
    assert places["production"].reader.role_arn == (
        "arn:aws:iam::222222222222:role/greenlight-status-reader-us-east-1"
    )


def test_a_single_account_config_names_no_account_and_reads_with_own_credentials() -> None:
    # GIVEN the single-account config (no tooling account named)
    places = stage_places(_config(), "churn")
    # WHEN the places are shown
    # THEN nothing is assumed and the account is the caller's own
    assert {place.label for place in places.values()} == {"-/-"}
    assert all(not place.reader.role_arn for place in places.values())
