"""History rows carry the account and region of their stage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from accounts_fixtures import PRODUCTION, production_elsewhere
from pipeline_world import GROUP, TABLE, PipelineWorld, open_world

from pipeline_scripts import cli

pytestmark = pytest.mark.integration


@pytest.fixture
def world() -> Iterator[PipelineWorld]:
    with open_world() as opened:
        yield opened


def test_history_rows_name_the_account_and_region_of_their_stage(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # GIVEN v1 deployed to staging (tooling account) and production (its own account)
    config = production_elsewhere(tmp_path)
    world.deploy(world.register())
    # WHEN the history is read as JSON with that config
    code = cli.main(
        ["history", GROUP, "--config", str(config), "--ledger-table", TABLE, "--format", "json"]
    )
    rows = json.loads(capsys.readouterr().out)
    # THEN each stage's rows say where it ran
    placed = {(row["stage"], row["account"], row["region"]) for row in rows if row["stage"]}
    assert code == 0
    assert placed == {
        ("staging", "123456789012", "us-east-1"),
        ("production", PRODUCTION, "us-east-1"),
    }
