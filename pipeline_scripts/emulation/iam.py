"""IAM in the sandbox: every call a function makes is evaluated against its role.

Each function runs with its own credentials (``function_access_key``), as Lambda gives
each function its execution role's session credentials. ``IamCheck`` is a checkpoint
check: for a request signed with a function's key it asks ``iam_actions`` what IAM
authorizes (actions and resource ARNs, from the Service Authorization Reference) and
``iam_policy`` whether the role's synthesized statements allow each (with the request's
tags, and the resource's from ``iam_tags`` when a statement names one). A refusal reaches
the caller as the service's AccessDenied error, worded as AWS words it.

Keys that belong to no function — the sandbox operator, the data scientist, the
reviewer, anyone calling a served sandbox — are not role-restricted: the sandbox models
people as administrators of the account. See ``docs/aws-behaviour.md`` (IAM).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from moto.core.utils import get_service_model

from pipeline_scripts.emulation.checkpoint import RequestRefused, ServiceRequest
from pipeline_scripts.emulation.iam_actions import UnknownAction, authorizations
from pipeline_scripts.emulation.iam_policy import (
    Authorization,
    Decision,
    UnsupportedCondition,
    evaluate,
    names_resource_tags,
)
from pipeline_scripts.emulation.iam_tags import resource_tags

#: JSON protocols answer AccessDeniedException; the query and XML ones AccessDenied, and
#: so do JSON services that keep their query-era error codes (awsQueryCompatible:
#: CloudWatch, SQS).
_JSON_PROTOCOLS = frozenset({"json", "rest-json", "smithy-rpc-v2-cbor"})
#: Services whose denial has its own code (SNS: AuthorizationError, HTTP 403).
_DENIAL_CODES = {"sns": ("AuthorizationError", 403)}


@dataclass(frozen=True)
class Role:
    """An IAM role as the template declares it, references resolved."""

    name: str
    arn: str
    #: Every statement of every identity-based policy attached to the role.
    statements: tuple[Mapping[str, Any], ...]

    def without(self, sid: str) -> Role:
        """The role with the statement ``sid`` removed (it must have one)."""
        kept = tuple(s for s in self.statements if s.get("Sid") != sid)
        if len(kept) == len(self.statements):
            raise KeyError(f"role {self.name} has no statement {sid!r}")
        return Role(name=self.name, arn=self.arn, statements=kept)


@dataclass(frozen=True)
class Caller:
    """A function's session: its role, and the function name as the session name."""

    role: Role
    session_name: str
    account: str

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{self.role.name}/{self.session_name}"


def function_access_key(function_name: str) -> str:
    """The access key of ``function_name``'s session credentials: a temporary key
    (``ASIA…``, 20 characters), the same for the function every time."""
    digest = hashlib.sha256(function_name.encode()).digest()
    return "ASIA" + base64.b32encode(digest).decode()[:16]


class IamCheck:
    """A checkpoint check: a function's calls must be allowed by its role."""

    def __init__(self, callers: Mapping[str, Caller]) -> None:
        #: Access key → the function session it belongs to.
        self._callers = dict(callers)
        #: Every authorization a function asked for, allowed or not (for tests).
        self.asked: list[tuple[str, Authorization, Decision]] = []

    @classmethod
    def for_functions(cls, roles: Mapping[str, Role], *, account: str) -> IamCheck:
        """One caller per function name in ``roles``, keyed by its access key."""
        return cls(
            {
                function_access_key(name): Caller(role=role, session_name=name, account=account)
                for name, role in roles.items()
            }
        )

    def __call__(self, request: ServiceRequest) -> None:
        caller = self._callers.get(request.access_key)
        if caller is None:
            return
        try:
            asked = authorizations(request)
        except UnknownAction as unknown:
            raise _denied(request, caller, unknown.action, "*", "no such action exists") from None
        for authorization in asked:
            self._authorize(request, caller, authorization)

    def _authorize(self, request: ServiceRequest, caller: Caller, asked: Authorization) -> None:
        statements = caller.role.statements
        if names_resource_tags(statements):
            tags = resource_tags(asked.resource)
            if tags is not None:
                asked = replace(asked, context={**asked.context, **tags}, resource_tags_read=True)
        try:
            decision = evaluate(statements, asked)
        except UnsupportedCondition as unsupported:
            raise _denied(
                request, caller, asked.action, asked.resource, f"{unsupported} in its policy"
            ) from None
        self.asked.append((caller.session_name, asked, decision))
        if decision is Decision.EXPLICIT_DENY:
            reason = "with an explicit deny in an identity-based policy"
            raise _denied(request, caller, asked.action, asked.resource, reason, joiner=" ")
        if decision is Decision.IMPLICIT_DENY:
            reason = f"no identity-based policy allows the {asked.action} action"
            raise _denied(request, caller, asked.action, asked.resource, reason)


def _denied(
    request: ServiceRequest,
    caller: Caller,
    action: str,
    resource: str,
    reason: str,
    *,
    joiner: str = " because ",
) -> RequestRefused:
    """AWS's wording: "User: <session ARN> is not authorized to perform: <action> on
    resource: <ARN> because no identity-based policy allows the <action> action"."""
    message = (
        f"User: {caller.arn} is not authorized to perform: {action} "
        f"on resource: {resource}{joiner}{reason}"
    )
    code, status = _denial_code(request.service)
    return RequestRefused(code, message, status=status)


def _denial_code(service: str) -> tuple[str, int]:
    if service in _DENIAL_CODES:
        return _DENIAL_CODES[service]
    model = get_service_model(service)
    if str(model.protocol) in _JSON_PROTOCOLS and "awsQueryCompatible" not in model.metadata:
        return "AccessDeniedException", 400
    return "AccessDenied", 403
