"""IAM's evaluation logic: explicit Deny wins, then Allow, else an implicit deny."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline_scripts.emulation.iam_policy import (
    Authorization,
    Decision,
    UnsupportedCondition,
    evaluate,
)

PIPELINE = "arn:aws:codepipeline:us-east-1:123456789012:greenlight-houses"
STAGE = f"{PIPELINE}/production"
ROLE = "arn:aws:iam::123456789012:role/models"


def _ask(action: str, resource: str, **context: str) -> Authorization:
    return Authorization(action=action, resource=resource, context=context)


def _allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_nothing_is_allowed_without_a_statement_that_allows_it() -> None:
    # GIVEN no statement at all, and one that allows another action
    # WHEN each is asked for RollbackStage
    # THEN both deny implicitly
    ask = _ask("codepipeline:RollbackStage", STAGE)
    assert evaluate([], ask) is Decision.IMPLICIT_DENY
    assert evaluate([_allow("codepipeline:GetPipeline", PIPELINE)], ask) is Decision.IMPLICIT_DENY


def test_an_allow_on_the_pipeline_arn_does_not_cover_its_stage() -> None:
    # GIVEN RollbackStage allowed on the pipeline's ARN only (the trigger's old grant)
    statements = [_allow("codepipeline:RollbackStage", PIPELINE)]

    # WHEN it is asked for the stage's ARN, which RollbackStage is authorized on
    decision = evaluate(statements, _ask("codepipeline:RollbackStage", STAGE))

    # THEN it is an implicit deny
    assert decision is Decision.IMPLICIT_DENY
    # AND the stage's own ARN, or a wildcard under the pipeline, allows it
    for resource in (STAGE, f"{PIPELINE}/*"):
        allowed = [_allow("codepipeline:RollbackStage", resource)]
        assert evaluate(allowed, _ask("codepipeline:RollbackStage", STAGE)) is Decision.ALLOWED


def test_an_explicit_deny_wins_over_any_allow() -> None:
    # GIVEN everything allowed and one action denied
    statements = [
        _allow("*", "*"),
        {"Effect": "Deny", "Action": "sagemaker:DeleteEndpoint", "Resource": "*"},
    ]

    # WHEN the denied action and another are asked
    # THEN the deny wins for its action only
    denied = _ask("sagemaker:DeleteEndpoint", "arn:aws:sagemaker:us-east-1:1:endpoint/e")
    assert evaluate(statements, denied) is Decision.EXPLICIT_DENY
    other = _ask("sagemaker:DescribeEndpoint", "arn:aws:sagemaker:us-east-1:1:endpoint/e")
    assert evaluate(statements, other) is Decision.ALLOWED


@pytest.mark.parametrize(
    ("pattern", "action", "allowed"),
    [
        ("sagemaker:Describe*", "sagemaker:DescribeEndpoint", True),
        ("SageMaker:describeendpoint", "sagemaker:DescribeEndpoint", True),
        ("sagemaker:Describe?ndpoint", "sagemaker:DescribeEndpoint", True),
        ("sagemaker:Describe?", "sagemaker:DescribeEndpoint", False),
        ("sagemaker:*", "codepipeline:GetPipeline", False),
        ("*", "codepipeline:GetPipeline", True),
    ],
)
def test_actions_match_with_wildcards_and_ignore_case(
    pattern: str, action: str, allowed: bool
) -> None:
    # GIVEN an Allow of the action pattern on every resource
    # WHEN the action is asked
    decision = evaluate([_allow(pattern, "*")], _ask(action, PIPELINE))
    # THEN it is allowed exactly when the pattern matches
    assert (decision is Decision.ALLOWED) is allowed


@pytest.mark.parametrize(
    ("pattern", "resource", "allowed"),
    [
        ("arn:aws:sagemaker:us-east-1:123456789012:model/houses-*", "model/houses-v1", True),
        ("arn:aws:sagemaker:us-east-1:123456789012:model/houses-*", "model/other-v1", False),
        ("arn:aws:sagemaker:us-east-1:123456789012:model/houses-?1", "model/houses-v1", True),
        ("arn:aws:sagemaker:us-east-1:123456789012:Model/houses-v1", "model/houses-v1", False),
        ("arn:aws:sagemaker:*:123456789012:model/houses-v1", "model/houses-v1", True),
        ("arn:aws:sagemaker:us-*:123456789012:model/houses-v1", "model/houses-v1", True),
        ("arn:aws:sagemaker:us-east-1:*", "model/houses-v1", True),
    ],
)
def test_resources_match_with_wildcards_and_case(
    pattern: str, resource: str, allowed: bool
) -> None:
    # GIVEN an Allow of DescribeModel on the resource pattern
    statements = [_allow("sagemaker:DescribeModel", pattern)]
    # WHEN a model's ARN is asked
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:{resource}"
    decision = evaluate(statements, _ask("sagemaker:DescribeModel", arn))
    # THEN it is allowed exactly when the pattern matches, case-sensitively
    assert (decision is Decision.ALLOWED) is allowed


def test_a_wildcard_inside_a_segment_does_not_reach_into_the_next_one() -> None:
    # GIVEN a region wildcard that is not the end of its segment
    statements = [_allow("sagemaker:DescribeModel", "arn:aws:sagemaker:us-*-1:1:model/m")]
    # WHEN an ARN whose colons would let the wildcard span segments is asked
    arn = "arn:aws:sagemaker:us-east:x-1:1:model/m"
    # THEN it does not match
    assert evaluate(statements, _ask("sagemaker:DescribeModel", arn)) is Decision.IMPLICIT_DENY


def test_not_action_allows_every_other_action() -> None:
    # GIVEN an Allow of everything but UpdateEndpoint
    statements = [{"Effect": "Allow", "NotAction": "sagemaker:UpdateEndpoint", "Resource": "*"}]
    # WHEN UpdateEndpoint and DescribeEndpoint are asked
    # THEN only DescribeEndpoint is allowed
    assert evaluate(statements, _ask("sagemaker:UpdateEndpoint", "*")) is Decision.IMPLICIT_DENY
    assert evaluate(statements, _ask("sagemaker:DescribeEndpoint", "*")) is Decision.ALLOWED


def test_not_resource_in_a_deny_protects_all_but_the_named_resources() -> None:
    # GIVEN everything allowed, but UpdateEndpoint denied outside the staging endpoint
    staging = "arn:aws:sagemaker:us-east-1:1:endpoint/staging"
    statements = [
        _allow("*", "*"),
        {"Effect": "Deny", "Action": "sagemaker:UpdateEndpoint", "NotResource": staging},
    ]
    # WHEN staging and production are updated
    production = "arn:aws:sagemaker:us-east-1:1:endpoint/production"
    # THEN only staging is allowed
    assert evaluate(statements, _ask("sagemaker:UpdateEndpoint", staging)) is Decision.ALLOWED
    decision = evaluate(statements, _ask("sagemaker:UpdateEndpoint", production))
    assert decision is Decision.EXPLICIT_DENY


def test_pass_role_holds_only_when_passed_to_the_named_service() -> None:
    # GIVEN PassRole allowed on one role, only to SageMaker (as the deploy role has it)
    statements = [
        _allow(
            "iam:PassRole",
            ROLE,
            Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        )
    ]
    # WHEN the role is passed to SageMaker, to Lambda, and with no service in the request
    to_sagemaker = _ask("iam:PassRole", ROLE, **{"iam:passedtoservice": "sagemaker.amazonaws.com"})
    to_lambda = _ask("iam:PassRole", ROLE, **{"iam:passedtoservice": "lambda.amazonaws.com"})
    # THEN only the pass to SageMaker is allowed
    assert evaluate(statements, to_sagemaker) is Decision.ALLOWED
    assert evaluate(statements, to_lambda) is Decision.IMPLICIT_DENY
    assert evaluate(statements, _ask("iam:PassRole", ROLE)) is Decision.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("operator", "value", "present", "absent"),
    [
        ("StringLike", "sagemaker.*", True, False),
        ("StringNotEquals", "lambda.amazonaws.com", True, True),
        ("StringEqualsIfExists", "sagemaker.amazonaws.com", True, True),
        ("StringEqualsIgnoreCase", "SageMaker.amazonaws.com", True, False),
    ],
)
def test_condition_operators_with_the_key_present_and_absent(
    operator: str, value: str, present: bool, absent: bool
) -> None:
    # GIVEN PassRole allowed under one condition operator
    statements = [
        _allow("iam:PassRole", ROLE, Condition={operator: {"iam:PassedToService": value}})
    ]
    # WHEN the request carries iam:PassedToService = sagemaker, and when it carries none
    with_key = _ask("iam:PassRole", ROLE, **{"iam:passedtoservice": "sagemaker.amazonaws.com"})
    # THEN each is allowed as the operator says
    assert (evaluate(statements, with_key) is Decision.ALLOWED) is present
    assert (evaluate(statements, _ask("iam:PassRole", ROLE)) is Decision.ALLOWED) is absent


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:ResourceTag/team": "ml"}},
        {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}},
    ],
)
def test_a_condition_the_sandbox_cannot_evaluate_refuses_instead_of_being_ignored(
    condition: dict[str, Any],
) -> None:
    # GIVEN an Allow whose condition names a key or operator the sandbox does not model
    statements = [_allow("sagemaker:DescribeModel", "*", Condition=condition)]
    # WHEN the action is asked
    # THEN evaluation refuses, naming what it cannot evaluate
    with pytest.raises(UnsupportedCondition, match="cannot evaluate the condition"):
        evaluate(statements, _ask("sagemaker:DescribeModel", "*"))


def test_a_statement_for_another_action_is_not_evaluated_for_its_condition() -> None:
    # GIVEN an unsupported condition on a statement about another action
    statements = [
        _allow("sagemaker:DescribeModel", "*"),
        _allow("s3:GetObject", "*", Condition={"StringEquals": {"s3:prefix": "a"}}),
    ]
    # WHEN DescribeModel is asked
    # THEN the statement that does not apply cannot refuse it
    assert evaluate(statements, _ask("sagemaker:DescribeModel", "*")) is Decision.ALLOWED


# --- tag conditions --------------------------------------------------------------------

ENDPOINT = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/houses"
TAGGED = {"StringLike": {"aws:ResourceTag/greenlight:endpoint": "*"}}


def _tagged_ask(tags: dict[str, str] | None) -> Authorization:
    """DeleteEndpoint on ENDPOINT, with the resource's tags read (or not: None)."""
    context = {f"aws:resourcetag/{key}": value for key, value in (tags or {}).items()}
    return Authorization(
        action="sagemaker:DeleteEndpoint",
        resource=ENDPOINT,
        context=context,
        resource_tags_read=tags is not None,
    )


def test_a_resource_tag_condition_holds_only_for_a_resource_that_carries_the_tag() -> None:
    # GIVEN DeleteEndpoint allowed on every endpoint that carries Greenlight's tag
    statements = [
        _allow("sagemaker:DeleteEndpoint", "arn:aws:sagemaker:*:*:endpoint/*", Condition=TAGGED)
    ]

    # WHEN asked for an endpoint with the tag, one with other tags, and one with none
    # THEN only the tagged one is allowed (a tag key is compared as written)
    assert evaluate(statements, _tagged_ask({"greenlight:endpoint": "houses"})) is Decision.ALLOWED
    for tags in ({"team": "b"}, {"Greenlight:Endpoint": "houses"}, {}):
        assert evaluate(statements, _tagged_ask(tags)) is Decision.IMPLICIT_DENY, tags


def test_a_resource_tag_condition_is_refused_when_the_resources_tags_were_not_read() -> None:
    # GIVEN the same statement, and a request whose resource's tags the sandbox cannot read
    statements = [_allow("sagemaker:DeleteEndpoint", "*", Condition=TAGGED)]

    # WHEN evaluated THEN it cannot be, and says which key and resource
    with pytest.raises(UnsupportedCondition, match=r"aws:resourcetag/greenlight:endpoint.*houses"):
        evaluate(statements, _tagged_ask(None))


def test_a_request_tag_condition_reads_the_tags_the_request_attaches() -> None:
    statements = [
        _allow(
            "sagemaker:CreateEndpoint",
            "*",
            Condition={"StringLike": {"aws:RequestTag/greenlight:endpoint": "*"}},
        )
    ]
    tagged = _ask(
        "sagemaker:CreateEndpoint", ENDPOINT, **{"aws:requesttag/greenlight:endpoint": "h"}
    )
    assert evaluate(statements, tagged) is Decision.ALLOWED
    assert (
        evaluate(statements, _ask("sagemaker:CreateEndpoint", ENDPOINT)) is Decision.IMPLICIT_DENY
    )
