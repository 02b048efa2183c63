"""IAM in the sandbox: every call a function makes is evaluated against its role.

Each function runs with its own credentials (``function_access_key``), as Lambda gives
each function its execution role's session credentials. ``IamCheck`` is a checkpoint
check: for a request signed with a function's key it asks ``iam_actions`` what IAM
authorizes (actions and resource ARNs, from the Service Authorization Reference) and
``iam_policy`` whether the role's synthesized statements allow each (with the request's
tags, and the resource's from ``iam_tags`` when a statement names one). A refusal reaches
the caller as the service's AccessDenied error, worded as AWS words it.

Credentials from ``sts:AssumeRole`` belong to the assumed role, in the role's account
(moto keeps a backend per account and files the new key there): a call made with them is
evaluated against that role's policies. ``AssumeRole`` itself needs both halves AWS
checks: the caller's identity-based policy allows ``sts:AssumeRole`` on the role, and the
role's trust policy names the caller. Only roles some template declares can be assumed.

Keys that belong to no function and no assumed role — the sandbox operator, the data
scientist, the reviewer, anyone calling a served sandbox — are not role-restricted: the
sandbox models people as administrators of the account; a role's trust policy still
applies to them. See ``docs/aws-behaviour.md`` (IAM).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from moto.core.utils import get_service_model
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from pipeline_scripts.emulation.checkpoint import RequestRefused, ServiceRequest
from pipeline_scripts.emulation.iam_actions import UnknownAction, authorizations
from pipeline_scripts.emulation.iam_policy import (
    Authorization,
    Decision,
    Principal,
    UnsupportedCondition,
    evaluate,
    evaluate_resource_policy,
    names_resource_tags,
)
from pipeline_scripts.emulation.iam_tags import resource_tags

PARTITION = "aws"
ASSUME_ROLE = "sts:AssumeRole"

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
    #: The statements of its trust policy (``AssumeRolePolicyDocument``).
    trust: tuple[Mapping[str, Any], ...] = ()

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    def without(self, sid: str) -> Role:
        """The role with the statement ``sid`` removed (it must have one)."""
        kept = tuple(s for s in self.statements if s.get("Sid") != sid)
        if len(kept) == len(self.statements):
            raise KeyError(f"role {self.name} has no statement {sid!r}")
        return Role(name=self.name, arn=self.arn, statements=kept, trust=self.trust)


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
    """A checkpoint check: a function's calls must be allowed by its role, an assumed
    role's by that role, and an ``AssumeRole`` by the target role's trust policy too."""

    def __init__(self, callers: Mapping[str, Caller], roles: Iterable[Role] = ()) -> None:
        #: Access key → the function session it belongs to.
        self._callers = dict(callers)
        #: Role ARN → every role the sandbox's accounts hold (what may be assumed).
        self._roles = {caller.role.arn: caller.role for caller in callers.values()}
        self._resource_policies: list[Mapping[str, Any]] = []
        self.declare(roles)
        #: Every authorization a function asked for, allowed or not (for tests).
        self.asked: list[tuple[str, Authorization, Decision]] = []

    @classmethod
    def for_functions(
        cls, roles: Mapping[str, Role], *, account: str, declared: Iterable[Role] = ()
    ) -> IamCheck:
        """One caller per function name in ``roles``, keyed by its access key;
        ``declared`` are the other roles the templates create (in any account)."""
        return cls(
            {
                function_access_key(name): Caller(role=role, session_name=name, account=account)
                for name, role in roles.items()
            },
            declared,
        )

    def declare(self, roles: Iterable[Role]) -> None:
        """Roles that exist from now on (a stack that creates them was deployed)."""
        self._roles.update((role.arn, role) for role in roles)

    def declare_resource_policy(self, statements: Iterable[Mapping[str, Any]]) -> None:
        """A resource-based policy that exists from now on (e.g. a model package group's,
        which moto does not keep); its statements name the resources they cover."""
        self._resource_policies.extend(statements)

    def __call__(self, request: ServiceRequest) -> None:
        caller = self._caller(request.access_key, request.account)
        if caller is not None:
            self._check_identity(request, caller)
        if (request.service, request.operation) == ("sts", "AssumeRole"):
            self._check_trust(request, caller)

    def principal_arn(self, access_key: str, account: str) -> str:
        """Who signs with ``access_key``, as AWS names it: a function's or an assumed
        role's session (``arn:aws:sts::…:assumed-role/ROLE/SESSION``), else a person."""
        caller = self._caller(access_key, account)
        return caller.arn if caller is not None else person_arn(access_key, account)

    def _caller(self, access_key: str, account: str) -> Caller | None:
        return self._callers.get(access_key) or self._assumed(access_key, account)

    def _assumed(self, access_key: str, account: str) -> Caller | None:
        """The assumed-role session ``access_key`` belongs to, if it is one. A role no
        template declares has no permissions here."""
        session = assumed_session(access_key, account)
        if session is None:
            return None
        role_arn, session_name = session
        role = self._roles.get(role_arn) or Role(
            name=role_arn.rsplit("/", 1)[-1], arn=role_arn, statements=()
        )
        return Caller(role=role, session_name=session_name, account=role.account)

    def _check_trust(self, request: ServiceRequest, caller: Caller | None) -> None:
        """The role named by ``RoleArn`` must exist and its trust policy name the
        caller (a person is the IAM user of its key)."""
        role_arn = str(request.params.get("RoleArn", ""))
        who = caller.arn if caller else person_arn(request.access_key, request.account)
        principal = (
            Principal(arn=caller.role.arn, account=caller.account)
            if caller
            else Principal(arn=who, account=request.account)
        )
        role = self._roles.get(role_arn)
        asked = Authorization(action=ASSUME_ROLE, resource=role_arn, context={})
        trust = role.trust if role else ()
        self._check_resource_policy(
            request, who, principal, asked, statements=trust, whose="the role's trust"
        )

    def _check_owner(self, request: ServiceRequest, caller: Caller, asked: Authorization) -> None:
        """A resource of another account is reached only if its own resource-based policy
        also allows the caller (a resource with none allows no other account)."""
        owner = asked.resource.split(":")[4] if asked.resource.count(":") >= 5 else ""
        if owner in ("", caller.account) or asked.action == ASSUME_ROLE:
            return  # a role's resource-based policy is its trust policy: ``_check_trust``
        principal = Principal(arn=caller.role.arn, account=caller.account)
        statements = self._resource_policies
        self._check_resource_policy(
            request,
            caller.arn,
            principal,
            asked,
            statements=statements,
            whose="its resource",
            resource=True,
        )

    def _check_resource_policy(
        self,
        request: ServiceRequest,
        who: str,
        principal: Principal,
        asked: Authorization,
        *,
        statements: Sequence[Mapping[str, Any]],
        whose: str,
        resource: bool = False,
    ) -> None:
        action, arn = asked.action, asked.resource
        try:
            decision = evaluate_resource_policy(
                statements, action, principal, arn if resource else None
            )
        except UnsupportedCondition as unsupported:
            reason = f"{unsupported} in {whose} policy"
            raise _denied(request, who, action, arn, reason) from None
        if decision is Decision.EXPLICIT_DENY:
            reason = "with an explicit deny in a resource-based policy"
            raise _denied(request, who, action, arn, reason, joiner=" ")
        if decision is not Decision.ALLOWED:
            reason = f"no resource-based policy allows the {action} action"
            raise _denied(request, who, action, arn, reason)

    def _check_identity(self, request: ServiceRequest, caller: Caller) -> None:
        try:
            asked = authorizations(request)
        except UnknownAction as unknown:
            reason = "no such action exists"
            raise _denied(request, caller.arn, unknown.action, "*", reason) from None
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
                request, caller.arn, asked.action, asked.resource, f"{unsupported} in its policy"
            ) from None
        self.asked.append((caller.session_name, asked, decision))
        if decision is Decision.EXPLICIT_DENY:
            reason = "with an explicit deny in an identity-based policy"
            raise _denied(request, caller.arn, asked.action, asked.resource, reason, joiner=" ")
        if decision is Decision.IMPLICIT_DENY:
            reason = f"no identity-based policy allows the {asked.action} action"
            raise _denied(request, caller.arn, asked.action, asked.resource, reason)
        self._check_owner(request, caller, asked)


def assumed_session(access_key: str, account: str) -> tuple[str, str] | None:
    """(role ARN, session name) of the ``sts:AssumeRole`` credentials ``access_key``
    belongs to, as moto filed them in the role's ``account``; None for any other key."""
    key = iam_backends[account][PARTITION].access_keys.get(access_key)
    role_arn = getattr(key, "role_arn", None) if key is not None else None
    if not role_arn:
        return None
    assumed = sts_backends[account][PARTITION].get_assumed_role_from_access_key(access_key)
    return str(role_arn), assumed.session_name if assumed else access_key


def person_arn(access_key: str, account: str) -> str:
    """A person's identity: the IAM user of the key's name (as the registry records)."""
    return f"arn:aws:iam::{account}:user/{access_key}"


def _denied(
    request: ServiceRequest,
    who: str,
    action: str,
    resource: str,
    reason: str,
    *,
    joiner: str = " because ",
) -> RequestRefused:
    """AWS's wording: "User: <session ARN> is not authorized to perform: <action> on
    resource: <ARN> because no identity-based (or resource-based) policy allows the
    <action> action"."""
    message = (
        f"User: {who} is not authorized to perform: {action} "
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
