"""``greenlight history`` on moto and the emulated CodePipeline, through plain boto3."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from pipeline_world import (
    APPROVER_KEY,
    GROUP,
    REGISTRANT_KEY,
    TABLE,
    PipelineWorld,
    common_flags,
    history_scenario,
    open_world,
)

from pipeline_scripts import cli
from pipeline_scripts.errors import EXIT_NO_CREDENTIALS, EXIT_NOT_FOUND, EXIT_USAGE
from pipeline_scripts.history_cli import COLUMNS
from shared import contract

pytestmark = pytest.mark.integration


@pytest.fixture
def world() -> Iterator[PipelineWorld]:
    with open_world() as opened:
        yield opened


@pytest.fixture
def scenario(world: PipelineWorld) -> dict[str, str]:
    return history_scenario(world)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json_rows(world: PipelineWorld, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, out, err = _run(capsys, "history", GROUP, "--format", "json", *common_flags(world))
    assert (code, err) == (0, "")
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def _user(key: str) -> str:
    return f"arn:aws:iam::123456789012:user/{key}"


def test_json_history_has_one_row_per_execution_and_stage_outcome_in_order(
    world: PipelineWorld, scenario: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 live everywhere, then v2 failing production and rolled back to v1

    # WHEN the auditor reads the history as JSON
    rows = _json_rows(world, capsys)

    # THEN the rows tell that story, in order
    assert [(r["version"], r["trigger"], r["stage"], r["result"]) for r in rows] == [
        (1, "approval", "staging", "deployed"),
        (1, "approval", "production", "deployed"),
        (2, "approval", "staging", "deployed"),
        (2, "approval", "production", "rolled-back"),
        (1, "automated-rollback", "production", "deployed"),
    ]


def test_json_history_rolled_back_row_names_the_target_version_and_the_failing_check(
    world: PipelineWorld, scenario: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v2 rolled back in production
    # WHEN the history is read
    rows = _json_rows(world, capsys)

    # THEN the rolled-back row names v1 and its rollback execution, and why
    (rolled,) = [r for r in rows if r["result"] == "rolled-back"]
    assert rolled["execution_id"] == scenario["bad"]
    assert rolled["rollback_target"] == f"v1 (execution {scenario['rollback']})"
    assert rolled["reason"].startswith("Bake failed: alarm ")
    assert rolled["started"] < rolled["ended"]


def test_json_history_joins_who_registered_who_approved_and_why_from_the_registry(
    world: PipelineWorld, scenario: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN versions registered by one key and approved by another
    # WHEN the history is read
    rows = _json_rows(world, capsys)

    # THEN each row carries the registrant, the approver and the approval description
    v2_rows = [r for r in rows if r["version"] == 2]
    assert {r["registrant"] for r in v2_rows} == {_user(REGISTRANT_KEY)}
    assert {r["approver"] for r in v2_rows} == {_user(APPROVER_KEY)}
    assert {r["approval_description"] for r in v2_rows} == {"v2: better RMSE"}
    assert all(r["approval_time"] for r in rows)
    rollback_row = rows[-1]
    assert rollback_row["approval_description"] == "v1: quality report reviewed"


def test_csv_history_has_the_documented_columns_and_the_same_rows_as_json(
    world: PipelineWorld, scenario: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the scenario's history
    expected = _json_rows(world, capsys)

    # WHEN it is read as CSV
    code, out, _ = _run(capsys, "history", GROUP, "--format", "csv", *common_flags(world))

    # THEN the header is the documented columns and the rows match the JSON ones
    reader = csv.DictReader(io.StringIO(out))
    assert code == 0
    assert tuple(reader.fieldnames or ()) == COLUMNS
    rows = list(reader)
    assert [(r["version"], r["stage"], r["result"]) for r in rows] == [
        (str(r["version"]), r["stage"], r["result"]) for r in expected
    ]


def test_table_history_shows_versions_results_and_the_rollback_target(
    world: PipelineWorld, scenario: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the scenario's history
    # WHEN it is read as the default table
    code, out, _ = _run(capsys, "history", GROUP, *common_flags(world))

    # THEN one header line and one line per row, the rollback visible
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split()[:3] == ["VERSION", "APPROVER", "APPROVED"]
    assert len(lines) == 6
    rolled = next(line for line in lines if "rolled-back" in line)
    assert rolled.startswith("v2 ")
    assert f"v1 (execution {scenario['rollback']})" in rolled


def test_html_history_is_written_to_the_output_file_as_a_self_contained_page(
    world: PipelineWorld,
    scenario: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # GIVEN the scenario's history
    target = tmp_path / "history.html"

    # WHEN it is written as HTML to a file
    code, out, _ = _run(
        capsys, "history", GROUP, "--format", "html", "--output", str(target), *common_flags(world)
    )

    # THEN the page holds the group, both versions' rows and no external reference
    page = target.read_text()
    assert code == 0
    assert out == f"5 rows written to {target}\n"
    assert page.startswith("<!DOCTYPE html>")
    assert GROUP in page
    assert scenario["bad"] in page
    assert "<script" not in page
    assert "<link" not in page
    assert 'src="http' not in page


def test_since_keeps_only_rows_from_that_time_on(
    world: PipelineWorld, scenario: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the scenario's history, and the start of v2's execution
    rows = _json_rows(world, capsys)
    v2_start = next(r["started"] for r in rows if r["version"] == 2)

    # WHEN the history is read from that moment
    code, out, _ = _run(
        capsys, "history", GROUP, "--since", v2_start, "--format", "json", *common_flags(world)
    )

    # THEN v1's first deployment is gone, v2 and the rollback remain
    since = json.loads(out)
    assert code == 0
    assert [(r["version"], r["result"]) for r in since] == [
        (2, "deployed"),
        (2, "rolled-back"),
        (1, "deployed"),
    ]


def test_history_of_a_group_with_no_deployments_says_so(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a group with nothing approved yet
    # WHEN its history is read
    code, out, _ = _run(capsys, "history", GROUP, *common_flags(world))

    # THEN the table says there is nothing yet
    assert (code, out) == (0, "No history recorded yet.\n")


def test_history_finds_the_ledger_table_in_the_greenlight_stack_outputs(
    world: PipelineWorld, scenario: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a Greenlight stack whose outputs name the ledger table
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            contract.OUTPUT_LEDGER_TABLE: {"Value": TABLE},
            contract.OUTPUT_TOPIC_ARN: {"Value": {"Ref": "Topic"}},
        },
    }
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName=contract.STACK_NAME, TemplateBody=json.dumps(template)
    )

    # WHEN history runs without --ledger-table
    code, out, _ = _run(
        capsys, "history", GROUP, "--stages", "staging,production", "--format", "json"
    )

    # THEN it read the ledger named there
    assert code == 0
    assert len(json.loads(out)) == 5


def test_history_counts_api_calls_by_pages_not_rows(
    world: PipelineWorld, scenario: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the history of the scenario, and a counter on every API call
    for _ in range(6):
        world.deploy(world.register())
    calls: list[str] = []
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register(
        "before-call", lambda model, **_: calls.append(model.name)
    )

    # WHEN the history is read
    code, out, _ = _run(capsys, "history", GROUP, "--format", "json", *common_flags(world))

    # THEN 17 rows took one call per list page: no call per row
    assert code == 0
    assert len(json.loads(out)) == 17
    assert sorted(calls) == sorted(
        [
            "DescribeModelPackageGroup",
            "ListModelPackages",
            "Query",  # trigger outcomes
            "Query",  # pipeline records
            "ListPipelineExecutions",
        ]
    )


# --- bad arguments ---------------------------------------------------------------------


def test_a_bad_since_date_is_one_line_on_stderr_and_exit_2(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN --since is not a date
    code, out, err = _run(capsys, "history", GROUP, "--since", "last tuesday", *common_flags(world))

    # THEN one line names the flag and the value
    assert (code, out) == (EXIT_USAGE, "")
    assert err.splitlines() == [
        "greenlight: --since: expected a date like 2026-01-31 or 2026-01-31T09:00:00Z, "
        "got 'last tuesday'"
    ]


def test_an_unknown_group_is_one_line_on_stderr_and_exit_3(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the group does not exist
    code, _, err = _run(capsys, "history", "no-such-group", *common_flags(world))

    # THEN one line names it
    assert code == EXIT_NOT_FOUND
    assert err.splitlines() == ["greenlight: model package group 'no-such-group' not found"]


def test_an_unknown_group_in_the_config_is_one_line_naming_the_configured_groups(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the group is not in cdk.json
    code, _, err = _run(
        capsys, "history", "no-such-group", "--config", "cdk.json", "--ledger-table", TABLE
    )

    # THEN one line names it and the groups that are configured
    assert code == EXIT_NOT_FOUND
    assert err.splitlines() == [
        "greenlight: group 'no-such-group' is not in cdk.json (groups: house-price-linear-learner)"
    ]


def test_no_credentials_is_one_line_on_stderr_and_exit_5(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # GIVEN no credentials anywhere
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    boto3.setup_default_session()

    # WHEN history runs
    code, _, err = _run(capsys, "history", GROUP, "--stages", "staging", "--ledger-table", TABLE)

    # THEN one line says what is missing
    assert code == EXIT_NO_CREDENTIALS
    assert len(err.splitlines()) == 1
    assert err.startswith("greenlight: no AWS credentials found")


def test_history_help_documents_the_formats(capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN help is asked for
    with pytest.raises(SystemExit) as exited:
        cli.main(["history", "--help"])

    # THEN it exits 0 and lists every format
    assert exited.value.code == 0
    assert "{table,json,csv,html}" in capsys.readouterr().out
