"""Clients in a stage's account and region.

A stage may live in another AWS account (and region) than the pipeline that drives it.
Deploy, SmokeTest, Bake and the endpoint cleanup reach such a stage through the stage's
deployment role, whose ARN travels with the action as data (``StageTarget``, in the
UserParameters or the custom resource's properties); the trigger and the recorder never
leave the tooling account.

A stage in the tooling account names no role: the function keeps its own execution
role, whose least-privilege policies the sandbox already enforces, and makes no STS call.
The role is assumed once per ``StageClients`` (one invocation) and never cached across
invocations, so expired or revoked credentials are never reused.

boto3 only: no Powertools, so every function can carry it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

#: ``RoleSessionName``'s pattern and length (STS AssumeRole).
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]+")


class InvalidStageTarget(ValueError):
    """A stage target whose role ARN or session name AWS would refuse."""

    def __init__(self, field_name: str, value: str, expected: str) -> None:
        super().__init__(f"stage target {field_name} {value!r}: expected {expected}")
        self.field_name = field_name


class StageAccessDenied(Exception):
    """The stage's role could not be assumed; the message keeps STS's own words."""

    def __init__(self, role_arn: str, session_name: str, code: str, message: str) -> None:
        super().__init__(
            f"{session_name} could not assume the stage role {role_arn}: {code}: {message}"
        )
        self.role_arn = role_arn
        self.code = code


@dataclass(frozen=True, kw_only=True)
class StageTarget:
    """Where a stage's resources live: the role to reach them and their region.

    Empty ``role_arn``: the tooling account, with the function's own credentials.
    Empty ``region``: the function's own region."""

    role_arn: str = ""
    region: str = ""

    def __post_init__(self) -> None:
        if self.role_arn and not _ROLE_ARN.fullmatch(self.role_arn):
            raise InvalidStageTarget("roleArn", self.role_arn, "an IAM role ARN")

    @property
    def account(self) -> str:
        """The stage's account id; empty for a stage in the tooling account."""
        match = _ROLE_ARN.fullmatch(self.role_arn)
        return match.group(1) if match else ""

    @classmethod
    def from_parameters(cls, raw: dict[str, Any]) -> StageTarget:
        """The ``stageRoleArn`` / ``stageRegion`` members of an action's parameters."""
        return cls(
            role_arn=str(raw.get("stageRoleArn") or ""), region=str(raw.get("stageRegion") or "")
        )

    def to_parameters(self) -> dict[str, str]:
        return {
            **({"stageRoleArn": self.role_arn} if self.role_arn else {}),
            **({"stageRegion": self.region} if self.region else {}),
        }


@dataclass
class StageClients:
    """boto3 clients for one stage, acting as its role when it has one."""

    target: StageTarget
    #: Who assumes the role: the function's name, so the stage account's CloudTrail
    #: names the function.
    session_name: str
    sts: Any = None
    _credentials: dict[str, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not _SESSION_NAME.fullmatch(self.session_name):
            raise InvalidStageTarget(
                "session name", self.session_name, "2-64 characters of [A-Za-z0-9_+=,.@-]"
            )

    def client(self, service: str) -> Any:
        """A client of ``service`` in the stage's account and region."""
        from shared import clients  # noqa: PLC0415 - created on first use, never at import

        if not self.target.role_arn:
            return clients.client(service, self.target.region or None)
        import boto3  # noqa: PLC0415

        region = {"region_name": self.target.region} if self.target.region else {}
        credentials = self._assumed()
        return boto3.client(  # type: ignore[call-overload]
            service,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            **region,
        )

    def _assumed(self) -> dict[str, str]:
        if self._credentials is None:
            self._credentials = _assume(self._sts(), self.target.role_arn, self.session_name)
        return self._credentials

    def _sts(self) -> Any:
        if self.sts is None:
            from shared import clients  # noqa: PLC0415 - created on first use, never at import

            self.sts = clients.client("sts")
        return self.sts


def stage_clients(user_parameters: str, *, sts: Any = None) -> StageClients:
    """The clients of the stage an action's UserParameters place (``stageRoleArn``,
    ``stageRegion``), acting as this function. Parameters that are not a JSON object
    place nothing: the action's own parsing then refuses them, naming the field."""
    try:
        raw = json.loads(user_parameters)
    except (TypeError, ValueError):
        raw = None
    target = StageTarget.from_parameters(raw) if isinstance(raw, dict) else StageTarget()
    return StageClients(target, session_name=session_name(), sts=sts)


def session_name() -> str:
    """This function's name (Lambda sets it), as the session name in the stage account."""
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "greenlight"


def _assume(sts: Any, role_arn: str, session_name: str) -> dict[str, str]:
    from botocore.exceptions import ClientError  # noqa: PLC0415 - with boto3, on first use

    try:
        answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)
    except ClientError as error:
        details = error.response.get("Error", {})
        raise StageAccessDenied(
            role_arn, session_name, str(details.get("Code")), str(details.get("Message"))
        ) from None
    credentials: dict[str, str] = answer["Credentials"]
    return credentials
