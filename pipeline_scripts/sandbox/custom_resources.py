"""Custom resources, run as CloudFormation and the CDK's Provider framework run them.

CloudFormation sends a custom resource's Create when the stack is created and its Delete
when the stack is deleted (``cdk destroy``). Behind the CDK ``custom_resources.Provider``
framework, the framework's own function relays each request to the user's ``onEvent``
function, invoking it synchronously with the request and reading its answer
(``PhysicalResourceId``, ``Data``). The sandbox skips the framework's relay (Node.js
code that only forwards) and invokes the user's function as the relay would: through
the Lambda runtime, so the function's ``Timeout`` and its IAM role hold as for every
other function (docs/aws-behaviour.md, CloudFormation).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

#: The Provider framework's relay names the user's function in this variable.
USER_ON_EVENT: Final = "USER_ON_EVENT_FUNCTION_ARN"


class InvalidCustomResource(ValueError):
    """A custom resource whose requests reach no function of the template."""


class Invoker(Protocol):
    def invoke(self, function: str, event: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True)
class CustomResourceSpec:
    logical_id: str
    resource_type: str
    #: ``Properties`` with the template's references resolved, ``ServiceToken`` left out.
    properties: dict[str, Any]
    #: Logical id of the function that handles the resource's requests.
    on_event_function: str


def read_custom_resources(
    resources: Mapping[str, Any], resolve: Any
) -> tuple[CustomResourceSpec, ...]:
    """The template's custom resources and the function each one's requests reach."""
    specs = []
    for logical_id, resource in resources.items():
        kind = str(resource["Type"])
        if not (kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource"):
            continue
        props = dict(resource.get("Properties", {}))
        token = props.pop("ServiceToken", None)
        specs.append(
            CustomResourceSpec(
                logical_id=logical_id,
                resource_type=kind,
                properties=resolve(props),
                on_event_function=_on_event_function(logical_id, token, resources),
            )
        )
    return tuple(specs)


def _on_event_function(logical_id: str, token: Any, resources: Mapping[str, Any]) -> str:
    relay = _getatt_arn(token)
    if relay is None or relay not in resources:
        raise InvalidCustomResource(
            f"custom resource {logical_id}: its ServiceToken is no function's Arn"
        )
    variables = resources[relay].get("Properties", {}).get("Environment", {}).get("Variables", {})
    user = _getatt_arn(variables.get(USER_ON_EVENT))
    return user if user is not None else relay


def _getatt_arn(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target, attribute = value["Fn::GetAtt"]
        if attribute == "Arn":
            return str(target)
    return None


@dataclass
class CustomResources:
    """The stack's custom resources: created with the stack, deleted with it."""

    specs: tuple[CustomResourceSpec, ...]
    runtime: Invoker
    stack_id: str
    physical_ids: dict[str, str] = field(default_factory=dict)

    def create(self) -> None:
        for spec in self.specs:
            answer = self._send(spec, "Create")
            self.physical_ids[spec.logical_id] = str(
                answer.get("PhysicalResourceId") or f"{spec.logical_id}-{uuid.uuid4().hex[:12]}"
            )

    def delete(self) -> None:
        """Delete in the reverse order of creation, as CloudFormation does."""
        for spec in reversed(self.specs):
            if spec.logical_id in self.physical_ids:
                self._send(spec, "Delete")
                del self.physical_ids[spec.logical_id]

    def _send(self, spec: CustomResourceSpec, request_type: str) -> Mapping[str, Any]:
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": f"sandbox-provider-{spec.logical_id}",
            "ResponseURL": "https://cloudformation-custom-resource-response.invalid/",
            "StackId": self.stack_id,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": spec.logical_id,
            "ResourceType": spec.resource_type,
            "ResourceProperties": dict(spec.properties),
        }
        if request_type != "Create":
            event["PhysicalResourceId"] = self.physical_ids[spec.logical_id]
        answer = self.runtime.invoke(spec.on_event_function, event)
        return answer if isinstance(answer, Mapping) else {}
