"""Fixtures every suite shares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

#: The CDK synthesis fixtures, registered once so every suite shares one synthesis of
#: each configuration.
pytest_plugins = ("tests.synthesis",)

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Suites that synthesize the CDK app run on one xdist worker, so that each app
#: configuration is synthesized once per run rather than once per worker.
_SYNTH_SUITES = ("infrastructure", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        suite = Path(str(item.path)).relative_to(REPO_ROOT / "tests").parts[0]
        if suite in _SYNTH_SUITES:
            item.add_marker(pytest.mark.xdist_group("cdk"))


@pytest.fixture(autouse=True)
def fresh_default_session() -> Iterator[None]:
    """boto3's default session (credentials, hooks) does not outlive the test that
    made it."""
    yield
    boto3.DEFAULT_SESSION = None


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and an explicit region: no test can reach a real account."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
