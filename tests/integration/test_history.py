"""``greenlight history`` on moto and the emulated CodePipeline, through plain boto3."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from approver_scenarios import (
    FIRST_APPROVER,
    SECOND_APPROVER,
    redeployed_after_re_approval,
    rolled_back_to_a_revoked_approvals_execution,
)
from pipeline_world import (
    APPROVER_KEY,
    GROUP,
    REGISTRANT_KEY,
    STAGES,
    TABLE,
    PipelineWorld,
    common_flags,
    history_scenario,
    open_world,
)

from pipeline_scripts import cli
from pipeline_scripts.errors import (
    EXIT_NO_CREDENTIALS,
    EXIT_NOT_FOUND,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)
from pipeline_scripts.history.command import COLUMNS
from shared import contract
from shared.ledger import OUTCOME_ROLLBACK_STARTED, Outcome

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


def _table_lines(out: str) -> list[str]:
    """The table's header and rows: the lines before the summary that follows them."""
    return out.split("\n\n", 1)[0].splitlines()


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
    # WHEN it is read as the wide table
    code, out, _ = _run(capsys, "history", GROUP, "--wide", *common_flags(world))

    # THEN one header line and one line per row, the rollback visible
    lines = _table_lines(out)
    assert code == 0
    assert lines[0].split() == [
        "VERSION",
        "REGISTRANT",
        "APPROVER",
        "DESCRIPTION",
        "APPROVED",
        "EXECUTION",
        "TRIGGER",
        "STAGE",
        "STAGE",
        "APPROVER",
        "RESULT",
        "STARTED",
        "ENDED",
        "ROLLBACK",
        "TARGET",
        "REASON",
    ]
    assert len(lines) == 6
    rolled = next(line for line in lines if "rolled-back" in line)
    assert rolled.startswith("v2 ")
    assert f"v1 (execution {scenario['rollback']})" in rolled


def test_the_default_table_fits_120_columns_and_keeps_who_what_where_and_why(
    world: PipelineWorld, scenario: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the scenario's history, whose wide table is wider than a terminal
    _, wide, _ = _run(capsys, "history", GROUP, "--wide", *common_flags(world))
    assert max(len(line) for line in wide.splitlines()) > 120

    # WHEN it is read as the default table
    code, out, _ = _run(capsys, "history", GROUP, *common_flags(world))

    # THEN every line fits 120 columns, and the columns that answer who, what, where and
    # why stay, with the rollback still visible
    lines = _table_lines(out)
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 120, out
    for column in ("VERSION", "APPROVER", "DESCRIPTION", "STAGE", "RESULT", "REASON"):
        assert column in lines[0]
    assert len(lines) == 6
    assert any("rolled-back" in line for line in lines)


def test_table_history_shows_registrant_approver_and_description_with_short_iam_names(
    world: PipelineWorld, scenario: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN versions registered and approved by IAM users (full ARNs in the ledger)
    # WHEN the history is read as the wide table
    code, out, _ = _run(capsys, "history", GROUP, "--wide", *common_flags(world))

    # THEN each row names the registrant and the approver by user name, then the description
    rows = _table_lines(out)[1:]
    assert code == 0
    assert [row.split()[0] for row in rows] == ["v1", "v1", "v2", "v2", "v1"]
    v2_row = next(row for row in rows if row.startswith("v2 "))
    assert v2_row.split()[1:6] == [REGISTRANT_KEY, APPROVER_KEY, "v2:", "better", "RMSE"]
    assert "arn:aws:iam::" not in out


def test_table_history_cuts_a_long_approval_description_but_json_and_csv_keep_it_whole(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a version approved with a description far wider than a table column
    description = "v1: holdout RMSE 31.2k, bias report reviewed with legal, " + "x" * 60
    world.deploy(world.register(), description)

    # WHEN the history is read as a table, as JSON and as CSV
    _, table, _ = _run(capsys, "history", GROUP, "--wide", *common_flags(world))
    rows = _json_rows(world, capsys)
    _, text, _ = _run(capsys, "history", GROUP, "--format", "csv", *common_flags(world))

    # THEN the table shows its first 39 characters and an ellipsis; the others all of it
    shown = description[:39].rstrip() + "…"
    assert all(shown in line for line in _table_lines(table)[1:])
    assert description not in table
    assert {r["approval_description"] for r in rows} == {description}
    assert {r["approval_description"] for r in csv.DictReader(io.StringIO(text))} == {description}


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


def test_since_after_the_last_row_says_nothing_happened_since_then_not_never(
    world: PipelineWorld, scenario: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the scenario's history
    # WHEN the table is asked for rows from a date after all of them
    code, out, _ = _run(capsys, "history", GROUP, "--since", "2099-01-01", *common_flags(world))

    # THEN it says there is nothing since then, not that nothing was ever recorded
    assert code == 0
    assert out == "No history since 2099-01-01T00:00:00+00:00.\n"


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


def test_the_stage_approver_of_an_answer_the_recorder_never_saw_is_read_from_codepipeline(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1's production approval seen waiting, then answered by a reviewer whose
    # answer event never reached the recorder
    outcome = world.approve(world.register())
    execution_id = outcome.pipeline_execution_id
    assert execution_id is not None
    world.start(execution_id)
    world.run_stage(execution_id, "staging")
    world.await_approval(execution_id, "production")
    reviewer = _user("release-manager")
    world.losing_events = True
    world.pass_approval(execution_id, "production", answered_by=reviewer)
    world.losing_events = False
    world.run_stage(execution_id, "production")
    world.finish(execution_id)

    # WHEN the auditor reads the history
    rows = _json_rows(world, capsys)

    # THEN production's stage approver comes from CodePipeline's updatedBy
    assert [(r["stage"], r["stage_approver"]) for r in rows] == [
        ("staging", None),
        ("production", reviewer),
    ]


# --- who started a rollback -------------------------------------------------------------


def _reject(world: PipelineWorld, arn: str) -> Outcome:
    """Reject ``arn`` as the approver and hand the Rejected event to the trigger."""
    world.clock.advance(30)
    world.approver.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Rejected", ApprovalDescription="drifted"
    )
    return world.trigger.handle(world.approved_event(arn))


def _run_rollback(world: PipelineWorld, execution_id: str, stage: str) -> None:
    world.start(execution_id)
    world.run_stage(execution_id, stage)
    world.finish(execution_id)


def _rejection_rolled_back(world: PipelineWorld) -> Outcome:
    """v1 then v2 live everywhere; v2 rejected, both stages rolled back to v1 (the
    rollback executions run to the end). Returns the rejection's outcome."""
    world.deploy(world.register(), "v1: quality report reviewed")
    v2 = world.register()
    world.deploy(v2, "v2: better RMSE")
    outcome = _reject(world, v2)
    assert outcome.outcome == OUTCOME_ROLLBACK_STARTED, outcome
    for started in outcome.rollbacks:
        _run_rollback(world, started.execution_id, started.stage)
    return outcome


def _manual_rollback(world: PipelineWorld, capsys: pytest.CaptureFixture[str]) -> str:
    """``greenlight rollback`` of production, run to the end; returns its execution id."""
    code, _, err = _run(
        capsys,
        "rollback",
        GROUP,
        "--stage",
        "production",
        *common_flags(world),
        "--topic-arn",
        world.topic_arn,
        "--reason",
        "latency up",
    )
    assert (code, err) == (0, "")
    (outcome,) = [o for o in world.ledger.outcomes(GROUP) if o.event_id.startswith("cli-rollback-")]
    (started,) = outcome.rollbacks
    _run_rollback(world, started.execution_id, started.stage)
    return started.execution_id


def _rewrite(world: PipelineWorld, outcome: Outcome) -> None:
    """Overwrite ``outcome``'s ledger item."""
    world.dynamodb.put_item(TableName=TABLE, Item=outcome.to_item())


def _triggers_of(rows: list[dict[str, Any]], execution_ids: set[str]) -> set[str]:
    return {r["trigger"] for r in rows if r["execution_id"] in execution_ids}


def test_history_labels_the_executions_a_rejection_started_as_rejection_rollback(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v2 rejected after it went live, and both stages rolled back to v1
    outcome = _rejection_rolled_back(world)
    rollback_ids = {started.execution_id for started in outcome.rollbacks}

    # WHEN the history is read
    rows = _json_rows(world, capsys)

    # THEN in each stage the rollback put v1 back and took the rejected v2 out,
    # both rows started by the rejection
    rollback_rows = [r for r in rows if r["execution_id"] in rollback_ids]
    assert sorted((r["stage"], r["version"], r["result"]) for r in rollback_rows) == [
        ("production", 1, "deployed"),
        ("production", 2, "rolled-back"),
        ("staging", 1, "deployed"),
        ("staging", 2, "rolled-back"),
    ]
    assert _triggers_of(rows, rollback_ids) == {"rejection-rollback"}


def test_a_rejected_live_version_shows_as_rolled_back_with_the_rejection_as_its_decision(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v2 rejected after it went live, and both stages rolled back to v1
    outcome = _rejection_rolled_back(world)

    # WHEN the history is read
    rows = _json_rows(world, capsys)

    # THEN v2's rolled-back rows say it was rejected, by whom and why, and name v1 as
    # the version put back
    rejected = [r for r in rows if r["version"] == 2 and r["result"] == "rolled-back"]
    assert len(rejected) == 2
    for row in rejected:
        assert row["reason"] == f"v2 was rejected: {outcome.approval_description}"
        assert row["approver"] == outcome.approved_by
        assert row["approval_description"] == outcome.approval_description
        assert row["rollback_target"].startswith("v1 (execution ")


def test_a_rejection_rollback_keeps_its_label_when_the_outcome_reason_text_changes(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a rejection's rollbacks, and its reason and stage texts reworded without any id
    outcome = _rejection_rolled_back(world)
    _rewrite(
        world,
        replace(
            outcome,
            reason="version 2 was rejected by the reviewer",
            stages=dict.fromkeys(outcome.stages, "rolled back"),
        ),
    )

    # WHEN the history is read
    rows = _json_rows(world, capsys)

    # THEN the rollback executions are still the rejection's
    rollback_ids = {started.execution_id for started in outcome.rollbacks}
    assert _triggers_of(rows, rollback_ids) == {"rejection-rollback"}


def test_history_labels_the_execution_greenlight_rollback_started_as_manual_rollback(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 then v2 live everywhere, and the operator rolled production back to v1
    world.deploy(world.register())
    world.deploy(world.register())
    rollback = _manual_rollback(world, capsys)

    # WHEN the history is read
    rows = _json_rows(world, capsys)

    # THEN production's rollback put v1 back and took v2 out, as a manual rollback
    rollback_rows = [r for r in rows if r["execution_id"] == rollback]
    assert sorted((r["stage"], r["version"], r["result"]) for r in rollback_rows) == [
        ("production", 1, "deployed"),
        ("production", 2, "rolled-back"),
    ]
    assert {r["trigger"] for r in rollback_rows} == {"manual-rollback"}
    (taken_out,) = [r for r in rollback_rows if r["version"] == 2]
    assert taken_out["reason"] == "rolled back with greenlight rollback"


def test_a_manual_rollback_named_in_a_rejection_reason_text_is_still_manual(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a rejection's rollbacks, then a manual rollback of production, and the
    # rejection's reason reworded to mention the manual rollback's execution
    outcome = _rejection_rolled_back(world)
    world.deploy(world.register())
    manual = _manual_rollback(world, capsys)
    _rewrite(
        world,
        replace(outcome, reason=f"{outcome.reason}; see also {manual} in production"),
    )

    # WHEN the history is read
    rows = _json_rows(world, capsys)

    # THEN each execution keeps the label of the request that started it
    rejection_ids = {started.execution_id for started in outcome.rollbacks}
    assert _triggers_of(rows, {manual}) == {"manual-rollback"}
    assert _triggers_of(rows, rejection_ids) == {"rejection-rollback"}


# --- who approved a version approved twice ---------------------------------------------


def test_history_names_the_approval_in_force_after_approve_reject_re_approve_and_redeploy(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 approved by the first approver and deployed, then rejected, approved again
    # by a second approver and deployed, then redeployed by an operator
    redeploy = redeployed_after_re_approval(world)
    capsys.readouterr()

    # WHEN the history is read
    rows = _json_rows(world, capsys)

    # THEN the redeploy's rows name the second approver, as status does: that approval
    # was in force when the redeploy went out, the first was revoked by the rejection
    redeployed = [r for r in rows if r["execution_id"] == redeploy]
    assert [r["stage"] for r in redeployed] == list(STAGES)
    assert {(r["trigger"], r["approver"]) for r in redeployed} == {("redeploy", SECOND_APPROVER)}
    # AND v1's first deployment still names the approval it went out on
    first = [r for r in rows if r["trigger"] == "approval" and r["approver"] == FIRST_APPROVER]
    assert [r["stage"] for r in first] == list(STAGES)


def test_history_after_a_rollback_to_a_revoked_approvals_execution_names_the_approval_in_force(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 approved, rejected and approved again by a second approver; then v2 fails
    # its production bake and production rolls back to v1's first execution, whose
    # variables name the first approval
    rolled_back_to_a_revoked_approvals_execution(world)

    # WHEN the history is read
    rows = _json_rows(world, capsys)

    # THEN production's automated rollback row for v1 names the second approver, as
    # status does for what is live there
    (rollback,) = [
        r for r in rows if r["trigger"] == "automated-rollback" and r["stage"] == STAGES[1]
    ]
    assert (rollback["version"], rollback["result"]) == (1, "deployed")
    assert rollback["approver"] == SECOND_APPROVER


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


def test_an_output_file_that_cannot_be_written_is_one_line_and_exit_6(
    world: PipelineWorld,
    scenario: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # GIVEN an --output path in a directory that does not exist
    output = tmp_path / "no-such-dir" / "history.csv"

    # WHEN the history is written there
    code, _, err = _run(
        capsys, "history", GROUP, "--format", "csv", "--output", str(output), *common_flags(world)
    )

    # THEN one line names the file, with the documented code for what cannot be reached
    assert code == EXIT_UNREACHABLE
    assert err == f"greenlight: cannot write {output}: No such file or directory\n"


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
