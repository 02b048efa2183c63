"""Serve mode: plain boto3, pointed at the sandbox server, drives a real approval."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline_scripts.cli import main
from pipeline_scripts.sandbox.accounts import DATA_SCIENTIST_KEY, REVIEWER_KEY
from pipeline_scripts.sandbox.server import SandboxServer
from pipeline_scripts.sandbox.template import load_app

pytestmark = pytest.mark.e2e

GROUP = "house-price-linear-learner"
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(example_out: Path) -> Iterator[SandboxServer]:
    served = SandboxServer(load_app(example_out), port=_free_port(), log=lambda _line: None)
    served.start()
    try:
        yield served
    finally:
        served.stop()


def _client(server: SandboxServer, service: str, key: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key="sandbox",
    )


def _wait_for(condition: Callable[[], bool], *, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _live_version(sagemaker: Any, endpoint: str) -> int | None:
    try:
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
    except sagemaker.exceptions.ClientError:
        return None
    if described["EndpointStatus"] != "InService":
        return None
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    arn = (model.get("Containers") or [model.get("PrimaryContainer", {})])[0].get(
        "ModelPackageName", ""
    )
    return int(arn.rsplit("/", 1)[-1]) if arn else None


def test_the_lessons_boto3_calls_deploy_through_staging_and_production(
    server: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a data scientist's and a reviewer's plain boto3 clients on the sandbox
    scientist = _client(server, "sagemaker", DATA_SCIENTIST_KEY)
    reviewer = _client(server, "sagemaker", REVIEWER_KEY)
    groups = scientist.list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert GROUP in [g["ModelPackageGroupName"] for g in groups]

    # WHEN they register and approve a version exactly as the lesson does
    arn = scientist.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelPackageDescription="linear learner, house prices",
        InferenceSpecification={
            "Containers": [
                {
                    "Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
                    "ModelDataUrl": "s3://my-bucket/house-price/model.tar.gz",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus="PendingManualApproval",
    )["ModelPackageArn"]
    reviewer.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")

    # THEN within seconds the version is live in staging
    assert _wait_for(lambda: _live_version(reviewer, "house-price-staging") == 1)

    # WHEN the reviewer gives production's manual approval from the CLI
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)

    def approved() -> bool:
        code, out, _ = _cli(server, "sandbox", "approve-stage")
        return code == 0 and "Approved" in out

    assert _wait_for(approved)

    # THEN it goes live in production, and the history shows both stages deployed
    assert _wait_for(lambda: _live_version(reviewer, "house-price-production") == 1)
    assert _wait_for(lambda: _history_results(server) >= {"staging", "production"})
    # AND status, read through the server, names the live version of each stage
    code, status, _ = _cli(server, "status", GROUP, "--stages", "staging,production")
    assert code == 0
    assert "staging (this account/us-east-1): v1 live since" in status
    assert "production (this account/us-east-1): v1 live since" in status


def _register_and_approve(server: SandboxServer, description: str) -> str:
    scientist = _client(server, "sagemaker", DATA_SCIENTIST_KEY)
    reviewer = _client(server, "sagemaker", REVIEWER_KEY)
    arn: str = scientist.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelPackageDescription=description,
        InferenceSpecification={
            "Containers": [
                {
                    "Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
                    "ModelDataUrl": "s3://my-bucket/house-price/model.tar.gz",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus="PendingManualApproval",
    )["ModelPackageArn"]
    reviewer.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    return arn


def _outcomes(server: SandboxServer) -> list[dict[str, Any]]:
    dynamodb = _client(server, "dynamodb", REVIEWER_KEY)
    table = next(iter(server.sandbox.app.tables))
    items = dynamodb.scan(TableName=table)["Items"]
    return [
        {key: next(iter(value.values())) for key, value in item.items()}
        for item in items
        if item.get("kind", {}).get("S") == "trigger-outcome"
    ]


def _cli_process(server: SandboxServer, *argv: str) -> subprocess.CompletedProcess[str]:
    """The ``greenlight`` CLI in its own process, as a user runs it against the server."""
    root = Path(__file__).resolve().parents[2]
    environment = {
        **os.environ,
        "AWS_ENDPOINT_URL": server.endpoint_url,
        "AWS_ACCESS_KEY_ID": REVIEWER_KEY,
        "AWS_SECRET_ACCESS_KEY": "sandbox",
        "AWS_DEFAULT_REGION": REGION,
        "PYTHONPATH": os.pathsep.join([str(root), str(root / "lambdas")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "pipeline_scripts.cli", *argv],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


def test_a_redeploy_from_the_cli_keeps_later_approvals_current(server: SandboxServer) -> None:
    # GIVEN v1 approved through the server and its first approval acted on
    first = _register_and_approve(server, "v1")
    assert _wait_for(lambda: any(o.get("modelPackageArn") == first for o in _outcomes(server)))

    # WHEN an operator redeploys v1 with the CLI, in its own process, on the server
    redeploy = _cli_process(
        server, "redeploy", GROUP, "1", "--reason", "drill", "--stages", "staging,production"
    )
    assert redeploy.returncode == 0, redeploy.stderr

    # AND a data scientist's v2 is approved afterwards
    second = _register_and_approve(server, "v2")

    # THEN the reviewer's approval of v2 starts a deployment: the redeploy was recorded
    # in the sandbox's time, so a later approval is not older than it (the recorder's
    # write-backs to v2 change it too, and their events start nothing)
    def reviewers(outcome: dict[str, Any]) -> bool:
        return bool(
            outcome.get("modelPackageArn") == second
            and outcome["approvedBy"].endswith(f"/{REVIEWER_KEY}")
        )

    assert _wait_for(lambda: any(reviewers(o) for o in _outcomes(server)))
    (outcome,) = [o for o in _outcomes(server) if reviewers(o)]
    assert outcome["outcome"] == "started", outcome["reason"]


def _cli(server: SandboxServer, *argv: str) -> tuple[int, str, str]:
    """``greenlight ARGV`` in this process, with its own stdout and stderr. The sandbox's
    loop waits meanwhile: its functions write to this process's stdout too (to their own
    logs, while sys.stdout is the sandbox's), and none may run while it is replaced."""
    out, err = io.StringIO(), io.StringIO()
    with server.lock, redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _history_results(server: SandboxServer) -> set[str]:
    code, out, _ = _cli(
        server, "history", GROUP, "--format", "json", "--stages", "staging,production"
    )
    if code != 0:
        return set()
    rows = json.loads(out)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    return {row["stage"] for row in rows if row.get("result") == "deployed"}


def test_stopping_the_server_frees_its_port(example_out: Path) -> None:
    # GIVEN a running sandbox server
    served = SandboxServer(load_app(example_out), port=_free_port(), log=lambda _line: None)
    served.start()
    port = served.port

    # WHEN it stops
    served.stop()

    # THEN nothing listens on its port any more
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_ctrl_c_stops_a_served_sandbox_cleanly(example_out: Path) -> None:
    # GIVEN `greenlight sandbox serve` running in its own process
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline_scripts.cli",
            "sandbox",
            "--cdk-out",
            str(example_out),
            "serve",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert f"serving on http://127.0.0.1:{port}" in banner

        # WHEN it gets Ctrl-C
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    # THEN it says so and exits 0, without a traceback
    assert process.returncode == 0
    assert "sandbox stopped" in out
    assert "Traceback" not in out


def _serve_process(example_out: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline_scripts.cli",
            "sandbox",
            "serve",
            "--cdk-out",
            str(example_out),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_serve_on_a_port_in_use_exits_at_once_with_one_line(example_out: Path) -> None:
    # GIVEN a port something already listens on
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        # WHEN the sandbox is served there
        process = _serve_process(example_out, "--port", str(port))
        try:
            out, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()

    # THEN it exits with the usage code, naming the port and what to do, no traceback
    assert process.returncode == 2, out
    assert f"greenlight: cannot serve on 127.0.0.1:{port}" in out
    assert "--port" in out
    assert "Traceback" not in out


def test_serve_refuses_a_port_number_that_cannot_exist(capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN the port is out of range
    with pytest.raises(SystemExit) as exited:
        main(["sandbox", "serve", "--port", "99999"])

    # THEN argparse refuses it before anything starts
    assert exited.value.code == 2
    assert "a port is 1-65535, got 99999" in capsys.readouterr().err


def test_serve_ignores_an_exported_endpoint_url_for_its_own_clients(example_out: Path) -> None:
    # GIVEN AWS_ENDPOINT_URL exported, as users of local emulators often have it,
    # pointing where the server is about to listen
    port = _free_port()
    process = _serve_process(
        example_out,
        "--port",
        str(port),
        env={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"},
    )
    try:
        # WHEN the server starts
        assert process.stdout is not None
        banner = process.stdout.readline()

        # THEN it provisions in-process and serves, rather than calling itself
        assert f"serving on http://127.0.0.1:{port}" in banner, banner
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, out
    assert "Traceback" not in out


def test_status_and_history_outside_the_project_read_the_deployed_stack(
    server: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a shell far from any cdk.json, pointed at the served sandbox
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", REVIEWER_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sandbox")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)

    # WHEN status and history run with neither --config nor --stages, nor even GROUP
    status_code, status, status_err = _cli(server, "status")
    history_code, history, history_err = _cli(server, "history", "--format", "json")

    # THEN the stack's outputs and the pipeline name the group, its stages and endpoints
    assert status_code == 0, status_err
    assert status.splitlines()[1:] == [
        "  staging (this account/us-east-1): nothing live; no outcome recorded",
        "  production (this account/us-east-1): nothing live; no outcome recorded",
    ]
    assert history_code == 0, history_err
    assert json.loads(history) == []
