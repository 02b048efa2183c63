"""``greenlight status`` on moto and the emulated CodePipeline, through plain boto3."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from accounts_fixtures import PRODUCTION, assumed_client, production_elsewhere
from approver_scenarios import (
    FIRST_APPROVER,
    SECOND_APPROVER,
    redeployed_after_re_approval,
    rolled_back_to_a_revoked_approvals_execution,
)
from pipeline_world import (
    APPROVER_KEY,
    GROUP,
    STAGES,
    TABLE,
    PipelineWorld,
    common_flags,
    history_scenario,
    open_world,
)

from pipeline_scripts import cli
from pipeline_scripts.errors import EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_USAGE
from shared import ledger

pytestmark = pytest.mark.integration


@pytest.fixture
def world() -> Iterator[PipelineWorld]:
    with open_world() as opened:
        yield opened


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _endpoint(world: PipelineWorld, stage: str, config_name: str, sagemaker: Any = None) -> None:
    """Make the stage's endpoint exist on ``config_name``, as a deployment would (with
    ``sagemaker``, in another account)."""
    sagemaker = sagemaker or world.sagemaker
    sagemaker.create_model(
        ModelName=f"model-{config_name}",
        PrimaryContainer={"Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/ll:1"},
        ExecutionRoleArn="arn:aws:iam::123456789012:role/greenlight-model",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"model-{config_name}",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=f"house-price-{stage}", EndpointConfigName=config_name)


def _live_config(world: PipelineWorld, stage: str) -> str:
    records = [r for r in world.records() if r.stage == stage]
    live = [r for r in records if r.record in (ledger.RECORD_DEPLOYED, ledger.RECORD_ROLLED_BACK)]
    config = live[-1].endpoint_config_name
    assert config is not None
    return config


def test_status_shows_the_live_version_its_approver_and_the_last_outcome_per_stage(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v2 rolled back to v1 in production, v2 live in staging, endpoints as recorded
    history_scenario(world)
    for stage in STAGES:
        _endpoint(world, stage, _live_config(world, stage))

    # WHEN status is asked for
    code, out, _ = _run(capsys, "status", GROUP, *common_flags(world))

    # THEN each stage's line names the live version, who approved it and what happened last
    lines = out.splitlines()
    approver = f"arn:aws:iam::123456789012:user/{APPROVER_KEY}"
    assert code == 0
    assert lines[0] == f"{GROUP} (greenlight-{GROUP})"
    assert lines[1].startswith("  staging (this account/us-east-1): v2 live since 2026-01-05 ")
    assert f"approved by {approver}; last: deployed v2" in lines[1]
    assert lines[2].startswith("  production (this account/us-east-1): v1 live since ")
    assert "; last: rolled back to v1 (Bake failed: alarm " in lines[2]
    assert not any(line.startswith("WARNING") for line in lines)


def test_status_warns_when_an_endpoint_runs_another_config_than_the_ledger_says(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 live everywhere, but production's endpoint silently on another config
    world.deploy(world.register())
    _endpoint(world, "staging", _live_config(world, "staging"))
    _endpoint(world, "production", "house-price-production-by-hand")

    # WHEN status is asked for
    code, out, _ = _run(capsys, "status", GROUP, *common_flags(world))

    # THEN a WARNING line names the endpoint, both configs, and the exit code is 1
    warnings = [line for line in out.splitlines() if line.startswith("WARNING")]
    assert code == EXIT_FAILURE
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "WARNING: production: endpoint house-price-production runs "
        f"house-price-production-by-hand, but the ledger says {_live_config(world, 'production')}"
    )


def test_status_warns_when_the_endpoint_the_ledger_says_is_live_is_gone(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 recorded live in staging, but no endpoint there
    world.deploy(world.register())
    _endpoint(world, "production", _live_config(world, "production"))

    # WHEN status is asked for
    code, out, _ = _run(capsys, "status", GROUP, *common_flags(world))

    # THEN the warning says the endpoint does not exist
    assert code == EXIT_FAILURE
    assert (
        "WARNING: staging: endpoint house-price-staging does not exist, but the ledger says "
        "version 1 is live there"
    ) in out.splitlines()


def test_status_of_a_group_with_nothing_deployed_says_nothing_live(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN status is asked for before any deployment
    code, out, _ = _run(capsys, "status", GROUP, *common_flags(world))

    # THEN every stage says nothing is live
    assert code == 0
    assert out.splitlines()[1:] == [
        "  staging (this account/us-east-1): nothing live; no outcome recorded",
        "  production (this account/us-east-1): nothing live; no outcome recorded",
    ]


def test_status_of_an_unknown_group_is_one_line_and_exit_3(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the group does not exist
    code, out, err = _run(capsys, "status", "nope", *common_flags(world))

    # THEN one line on stderr
    assert (code, out) == (EXIT_NOT_FOUND, "")
    assert err.splitlines() == ["greenlight: model package group 'nope' not found"]


def test_status_refuses_stages_the_groups_config_does_not_have(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN the project's cdk.json, whose group has staging and production
    # WHEN status is asked for stages it does not have
    code = cli.main(["status", "house-price-linear-learner", "--stages", "foo,staging,bar"])

    # THEN it names the unknown ones and the real ones, before calling AWS
    err = capsys.readouterr().err.strip()
    assert code == EXIT_USAGE
    assert err == (
        "greenlight: --stages: foo, bar not a stage of house-price-linear-learner in cdk.json "
        "(stages: staging, production)"
    )


READER = f"arn:aws:iam::{PRODUCTION}:role/greenlight-status-reader-us-east-1"


def test_status_reads_a_stage_in_another_account_through_its_reader_role(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # GIVEN production in its own account, its endpoint there on the recorded config
    config = production_elsewhere(tmp_path)
    world.deploy(world.register())
    _endpoint(world, "staging", _live_config(world, "staging"))
    production = assumed_client(READER, "sagemaker")
    _endpoint(world, "production", _live_config(world, "production"), production)

    # WHEN status is asked for with that config
    code, out, _ = _run(capsys, "status", GROUP, "--config", str(config), "--ledger-table", TABLE)

    # THEN each stage names its account and region, and production's endpoint was found
    lines = out.splitlines()
    assert code == 0, out
    assert lines[1].startswith("  staging (123456789012/us-east-1): v1 live since ")
    assert lines[2].startswith(f"  production ({PRODUCTION}/us-east-1): v1 live since ")


def test_status_does_not_find_production_in_the_tooling_account(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # GIVEN production placed in its own account, but its endpoint in the tooling account
    config = production_elsewhere(tmp_path)
    world.deploy(world.register())
    for stage in STAGES:
        _endpoint(world, stage, _live_config(world, stage))

    # WHEN status is asked for with that config
    code, out, _ = _run(capsys, "status", GROUP, "--config", str(config), "--ledger-table", TABLE)

    # THEN it looked in production's account, and warns that the endpoint is not there
    assert code == EXIT_FAILURE
    assert (
        "WARNING: production: endpoint house-price-production does not exist, but the ledger "
        "says version 1 is live there"
    ) in out.splitlines()


# --- who approved what is live ---------------------------------------------------------


def test_status_names_the_approval_in_force_after_approve_reject_re_approve_and_redeploy(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 approved by the first approver and deployed, then rejected, approved again
    # by a second approver and deployed, then redeployed by an operator
    redeployed_after_re_approval(world)
    capsys.readouterr()

    # WHEN status is asked for
    _, out, _ = _run(capsys, "status", GROUP, *common_flags(world))

    # THEN every stage names the second approver, whose approval was in force when the
    # redeploy went live; the first approval was revoked by the rejection
    for line in out.splitlines()[1:3]:
        assert f"approved by {SECOND_APPROVER}, redeployed by " in line
        assert FIRST_APPROVER not in line


def test_status_after_a_rollback_to_a_revoked_approvals_execution_names_the_approval_in_force(
    world: PipelineWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN v1 approved by the first approver and deployed, then rejected and approved again
    # by a second approver (that execution never ran); then v2 fails its production bake
    # and production rolls back to v1's first execution, whose variables name the first
    # approval
    rolled_back_to_a_revoked_approvals_execution(world)

    # WHEN status is asked for
    _, out, _ = _run(capsys, "status", GROUP, *common_flags(world))

    # THEN production's v1 is named as approved by the second approver: the rejection
    # revoked the first approval, and the second was in force when the rollback ran
    (production,) = [line for line in out.splitlines() if line.startswith("  production (")]
    assert production.startswith("  production (this account/us-east-1): v1 live since ")
    assert f"approved by {SECOND_APPROVER};" in production
