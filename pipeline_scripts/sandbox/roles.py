"""Each function's execution role, and every other role, as the synthesized template
declares it.

A role's identity-based policies are its inline ``Policies``, the ``AWS::IAM::Policy``
and ``AWS::IAM::ManagedPolicy`` resources that name it in ``Roles``, and the managed
policies in its ``ManagedPolicyArns`` that the template itself defines. A managed policy
from outside the template (an AWS managed policy) cannot be read here, so the role is
taken without it: the sandbox then denies what that policy would allow, which is the
strict side. Every reference is resolved to the ARN the sandbox gives the resource.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from pipeline_scripts.emulation.iam import Role


class Resolver(Protocol):
    """What the template's ``Resolver`` offers: names, ARNs and resolved values."""

    def ref(self, logical_id: str) -> str: ...

    def get_att(self, logical_id: str, attribute: str) -> str: ...

    def resolve(self, value: Any) -> Any: ...


class RoleError(Exception):
    """A function whose role the template does not declare."""


def function_roles(resources: Mapping[str, Any], resolver: Resolver) -> dict[str, Role]:
    """Function name → its execution role, for every ``AWS::Lambda::Function``."""
    roles: dict[str, Role] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role_id = _role_logical_id(resource.get("Properties", {}).get("Role"))
        if role_id is None or role_id not in resources:
            raise RoleError(f"function {logical_id} names no role of this template")
        roles[resolver.ref(logical_id)] = _role(role_id, resources, resolver)
    return roles


def declared_roles(resources: Mapping[str, Any], resolver: Resolver) -> list[Role]:
    """Every ``AWS::IAM::Role`` of the template, with its policies and trust policy."""
    return [
        _role(logical_id, resources, resolver)
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::IAM::Role"
    ]


def resource_policies(resources: Mapping[str, Any], resolver: Resolver) -> list[dict[str, Any]]:
    """The statements of the resource-based policies the template sets that moto keeps
    none of: each model package group's ``ModelPackageGroupPolicy``."""
    statements: list[dict[str, Any]] = []
    for resource in resources.values():
        if resource["Type"] != "AWS::SageMaker::ModelPackageGroup":
            continue
        policy = resource.get("Properties", {}).get("ModelPackageGroupPolicy")
        if policy:
            statements.extend(resolver.resolve(s) for s in _listed(policy.get("Statement", [])))
    return statements


def _role(role_id: str, resources: Mapping[str, Any], resolver: Resolver) -> Role:
    trust = resources[role_id].get("Properties", {}).get("AssumeRolePolicyDocument", {})
    return Role(
        name=resolver.ref(role_id),
        arn=resolver.get_att(role_id, "Arn"),
        statements=tuple(_statements(role_id, resources, resolver)),
        trust=tuple(resolver.resolve(s) for s in _listed(trust.get("Statement", []))),
    )


def _listed(statements: Any) -> list[Any]:
    return statements if isinstance(statements, list) else [statements]


def _role_logical_id(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        arg = value["Fn::GetAtt"]
        return str(arg[0] if isinstance(arg, list) else arg.split(".", 1)[0])
    return None


def _statements(
    role_id: str, resources: Mapping[str, Any], resolver: Resolver
) -> Iterator[dict[str, Any]]:
    properties = resources[role_id].get("Properties", {})
    documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
    for managed in properties.get("ManagedPolicyArns", []):
        managed_id = str(managed.get("Ref")) if isinstance(managed, dict) else ""
        if managed_id in resources:
            documents.append(resources[managed_id]["Properties"]["PolicyDocument"])
    attached = [
        resource["Properties"]["PolicyDocument"]
        for resource in resources.values()
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        and {"Ref": role_id} in resource.get("Properties", {}).get("Roles", [])
    ]
    documents.extend(attached)
    for document in documents:
        for statement in _listed(document.get("Statement", [])):
            yield resolver.resolve(statement)
