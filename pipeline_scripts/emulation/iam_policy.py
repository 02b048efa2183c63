"""IAM's policy evaluation logic, for the identity-based policies of one role.

A request is allowed when a statement allows it and none denies it: an explicit Deny
wins, then an Allow, and anything else is an implicit deny. A statement applies when its
``Action`` (or ``NotAction``), its ``Resource`` (or ``NotResource``) and its
``Condition`` all match. Actions match case-insensitively, resources case-sensitively,
both with the wildcards ``*`` and ``?``. The condition operators and keys are those the
synthesized templates use; a condition the sandbox cannot evaluate refuses the request
(``UnsupportedCondition``) rather than being ignored. See ``docs/aws-behaviour.md``
(IAM) for the pages each rule comes from.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: The condition keys a sandbox request carries a value for (lower case, as IAM compares
#: key names case-insensitively). A policy that names another key cannot be evaluated.
SUPPORTED_CONDITION_KEYS = frozenset(
    {
        "iam:passedtoservice",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:requestedregion",
        "aws:securetransport",
    }
)
#: Tag condition keys: the request's tags (``aws:RequestTag/<key>``) and the resource's
#: (``aws:ResourceTag/<key>``). The prefix is case-insensitive like every key name; the
#: tag key after it is compared as written (tag keys are case-sensitive).
REQUEST_TAG: str = "aws:requesttag/"
RESOURCE_TAG: str = "aws:resourcetag/"


class Decision(enum.Enum):
    ALLOWED = "allowed"
    IMPLICIT_DENY = "implicit deny"
    EXPLICIT_DENY = "explicit deny"


class UnsupportedCondition(Exception):
    """A policy's condition uses an operator or key the sandbox does not evaluate."""

    def __init__(self, what: str) -> None:
        super().__init__(f"the sandbox cannot evaluate the condition {what}")
        self.what = what


class UnsupportedPrincipal(UnsupportedCondition):
    """A trust policy names its principals in a way the sandbox does not evaluate."""

    def __init__(self, what: str) -> None:
        Exception.__init__(self, f"the sandbox cannot evaluate the principal element {what}")
        self.what = what


@dataclass(frozen=True)
class Principal:
    """Who calls, as a resource-based policy sees it: the role (not its session) or the
    user, and the account it belongs to."""

    arn: str
    account: str


@dataclass(frozen=True)
class Authorization:
    """One thing IAM checks for a request: an action on a resource, in a context."""

    action: str
    resource: str
    #: Condition key (lower case; a tag key as written after ``aws:requesttag/`` or
    #: ``aws:resourcetag/``) → value, for the keys this request carries.
    context: Mapping[str, str]
    #: Whether the context holds the resource's tags (``aws:resourcetag/<key>`` for each
    #: tag it has). A policy that names a resource tag is refused when they were not read.
    resource_tags_read: bool = False


def names_resource_tags(statements: Iterable[Mapping[str, Any]]) -> bool:
    """Whether any statement's condition names an ``aws:ResourceTag/<key>``."""
    return any(
        context_key(key).startswith(RESOURCE_TAG)
        for statement in statements
        for block in dict(statement.get("Condition", {})).values()
        for key in dict(block)
    )


def evaluate(statements: Iterable[Mapping[str, Any]], authorization: Authorization) -> Decision:
    """IAM's decision for ``authorization`` under one principal's policy statements."""
    allowed = False
    for statement in statements:
        if not _applies(statement, authorization):
            continue
        if statement.get("Effect") == "Deny":
            return Decision.EXPLICIT_DENY
        if statement.get("Effect") == "Allow":
            allowed = True
    return Decision.ALLOWED if allowed else Decision.IMPLICIT_DENY


def evaluate_resource_policy(
    statements: Iterable[Mapping[str, Any]],
    action: str,
    principal: Principal,
    resource: str | None = None,
) -> Decision:
    """A resource-based policy for ``action`` by ``principal``: a statement applies when
    its ``Principal`` names the caller (its ARN, its account's root, its account id, or
    ``*``), its ``Action`` matches, its ``Resource`` matches ``resource`` (a role's trust
    policy names no resource: ``resource`` None) and its ``Condition`` holds in the
    caller's context."""
    asked = Authorization(
        action=action,
        resource=resource or "*",
        context={"aws:principalarn": principal.arn, "aws:principalaccount": principal.account},
    )
    allowed = False
    for statement in statements:
        if "NotPrincipal" in statement:
            raise UnsupportedPrincipal("NotPrincipal")
        if not _names_principal(statement.get("Principal"), principal):
            continue
        if not _element_matches(statement, "Action", action, _action_pattern):
            continue
        if resource is not None and not _element_matches(
            statement, "Resource", resource, _resource_pattern
        ):
            continue
        if not _conditions_hold(statement.get("Condition", {}), asked):
            continue
        if statement.get("Effect") == "Deny":
            return Decision.EXPLICIT_DENY
        allowed = allowed or statement.get("Effect") == "Allow"
    return Decision.ALLOWED if allowed else Decision.IMPLICIT_DENY


def _names_principal(element: Any, principal: Principal) -> bool:
    """``"*"``, or ``{"AWS": ...}`` naming the caller; service and federated principals
    never name an IAM role or user."""
    if element == "*":
        return True
    if not isinstance(element, Mapping):
        return False
    root = f"arn:aws:iam::{principal.account}:root"
    return any(
        value in ("*", principal.arn, principal.account, root)
        for value in _as_list(element.get("AWS", []))
    )


def _applies(statement: Mapping[str, Any], authorization: Authorization) -> bool:
    if not _element_matches(statement, "Action", authorization.action, _action_pattern):
        return False
    if not _element_matches(statement, "Resource", authorization.resource, _resource_pattern):
        return False
    return _conditions_hold(statement.get("Condition", {}), authorization)


def _element_matches(statement: Mapping[str, Any], name: str, value: str, pattern: Any) -> bool:
    """``Action``/``NotAction`` (or ``Resource``/``NotResource``) against ``value``."""
    if name in statement:
        return any(pattern(item).fullmatch(value) for item in _as_list(statement[name]))
    negated = f"Not{name}"
    if negated in statement:
        return not any(pattern(item).fullmatch(value) for item in _as_list(statement[negated]))
    return False


def _as_list(value: Any) -> Sequence[str]:
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


@lru_cache(maxsize=4096)
def _action_pattern(action: str) -> re.Pattern[str]:
    """``sagemaker:Describe*``: ``*`` any characters, ``?`` one, case-insensitive."""
    return re.compile(_glob(action, star=".*", question="."), re.IGNORECASE)


@lru_cache(maxsize=4096)
def _resource_pattern(resource: str) -> re.Pattern[str]:
    """An ARN pattern. In the partition, service, region and account segments a wildcard
    stays inside its segment unless it ends the pattern; in the resource segment (after
    the fifth colon) ``*`` matches any characters, colons and slashes included."""
    if resource == "*":
        return re.compile(".*", re.DOTALL)
    segments = resource.split(":", 5)
    parts = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if index == 5 or last:
            parts.append(_glob(segment, star=".*", question="."))
        else:
            parts.append(_glob(segment, star="[^:]*", question="[^:]"))
    return re.compile(":".join(parts), re.DOTALL)


def _glob(text: str, *, star: str, question: str) -> str:
    return "".join(
        star if char == "*" else question if char == "?" else re.escape(char) for char in text
    )


# --- conditions ------------------------------------------------------------------------

_STRING_OPERATORS = {
    "StringEquals": (False, False, False),
    "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, False, True),
    "StringNotEqualsIgnoreCase": (True, False, True),
    "StringLike": (False, True, False),
    "StringNotLike": (True, True, False),
    "ArnEquals": (False, True, False),
    "ArnLike": (False, True, False),
    "ArnNotEquals": (True, True, False),
    "ArnNotLike": (True, True, False),
    "Bool": (False, False, True),
}


def _conditions_hold(conditions: Mapping[str, Any], authorization: Authorization) -> bool:
    """Every operator block holds, and within one every key holds (AND); a key holds
    when the request's value matches any of the listed values (OR)."""
    for operator, block in conditions.items():
        for key, expected in dict(block).items():
            if not _condition_holds(operator, context_key(key), _as_list(expected), authorization):
                return False
    return True


def context_key(key: str) -> str:
    """A policy's condition key as the context names it: lower case, but a tag key after
    ``aws:RequestTag/`` or ``aws:ResourceTag/`` as written."""
    lower = key.lower()
    for prefix in (REQUEST_TAG, RESOURCE_TAG):
        if lower.startswith(prefix):
            return prefix + key[len(prefix) :]
    return lower


def _check_key(key: str, authorization: Authorization) -> None:
    if key.startswith(RESOURCE_TAG):
        if not authorization.resource_tags_read:
            raise UnsupportedCondition(
                f"key {key}: the sandbox cannot read the tags of {authorization.resource}"
            )
    elif not key.startswith(REQUEST_TAG) and key not in SUPPORTED_CONDITION_KEYS:
        raise UnsupportedCondition(f"key {key}")


def _condition_holds(
    operator: str, key: str, expected: Sequence[str], authorization: Authorization
) -> bool:
    base, if_exists = (operator[:-8], True) if operator.endswith("IfExists") else (operator, False)
    if base not in _STRING_OPERATORS:
        raise UnsupportedCondition(f"operator {operator}")
    _check_key(key, authorization)
    negated, like, ignore_case = _STRING_OPERATORS[base]
    actual = authorization.context.get(key)
    if actual is None:
        # A key the request does not carry: "...IfExists" and the negated operators
        # hold; the others do not.
        return if_exists or negated
    matched = any(_value_matches(actual, value, like, ignore_case) for value in expected)
    return matched != negated


def _value_matches(actual: str, expected: str, like: bool, ignore_case: bool) -> bool:
    if like:
        return re.fullmatch(_glob(expected, star=".*", question="."), actual, re.DOTALL) is not None
    if ignore_case:
        return actual.lower() == expected.lower()
    return actual == expected
