"""The sandbox's account: its id and region, its people, and the credentials of its clients.

Every name here is what the emulation, the template's resolver and the clients agree on:
one account in one region, and the access keys by which the registry records who did
what.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from moto.iam.models import iam_backends

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
#: Where the multi-account scenario puts its stages (the tooling account is ACCOUNT_ID).
STAGING_ACCOUNT = "210987654321"
PRODUCTION_ACCOUNT = "345678901234"

#: Access keys of the sandbox's people: the registry records who did what by key.
OPERATOR_KEY = "AKIASANDBOXOPERATOR1"
DATA_SCIENTIST_KEY = "AKIADATASCIENTIST001"
REVIEWER_KEY = "AKIAREVIEWER00000001"
#: moto takes any secret.
_SECRET = "sandbox"  # noqa: S105

#: In-process clients of the sandbox need a region and some credentials; moto takes any.
_SANDBOX_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": OPERATOR_KEY,
    "AWS_SECRET_ACCESS_KEY": _SECRET,
}


def client(service: str, *, access_key: str = OPERATOR_KEY) -> Any:
    """A plain boto3 client of the sandbox's AWS, acting as ``access_key``."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=_SECRET,
    )


#: The IAM user the sandbox acts as in a target account (not role-restricted: people
#: are administrators of their account in the sandbox, as in the tooling account).
TARGET_OPERATOR = "sandbox-operator"


def operator_key(account: str) -> str:
    """The access key of ``account``'s operator; moto files requests signed with it under
    that account."""
    backend = iam_backends[account][PARTITION]
    if TARGET_OPERATOR not in backend.users:
        backend.create_user(region_name="us-east-1", user_name=TARGET_OPERATOR)
    keys = backend.users[TARGET_OPERATOR].access_keys
    key = keys[0] if keys else backend.create_access_key(TARGET_OPERATOR)
    return str(key.access_key_id)


def client_in(account: str, region: str, service: str) -> Any:
    """A boto3 client acting as ``account``'s operator."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=region,
        aws_access_key_id=operator_key(account),
        aws_secret_access_key=_SECRET,
    )


class ProcessEnvironment:
    """The process's AWS settings while a sandbox runs, given back when it stops.

    The sandbox's own clients, and the functions', talk to the in-process AWS: an
    exported AWS_ENDPOINT_URL (a served sandbox's, or another emulator's) is set aside
    while it runs, and region and credentials are set where none are."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def enter(self) -> None:
        redirects = [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]
        self._saved = {name: os.environ.get(name) for name in [*_SANDBOX_ENVIRONMENT, *redirects]}
        for name in redirects:
            del os.environ[name]
        for name, value in _SANDBOX_ENVIRONMENT.items():
            os.environ.setdefault(name, value)

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
