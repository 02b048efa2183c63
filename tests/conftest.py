"""Fixtures every suite shares."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# The CDK's bindings start their Node.js at the first `import aws_cdk`: make it the one
# package.json pins (make install), as `make test` and `make synth` do, also when pytest
# runs directly. This runs before the plugins below import the CDK.
_PINNED_NODE = REPO_ROOT / "node_modules" / ".bin"
if _PINNED_NODE.is_dir() and str(_PINNED_NODE) not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = f"{_PINNED_NODE}{os.pathsep}{os.environ.get('PATH', '')}"

#: The CDK synthesis fixtures, registered once so every suite on a worker shares one
#: synthesis of each configuration.
pytest_plugins = ("tests.synthesis",)


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
