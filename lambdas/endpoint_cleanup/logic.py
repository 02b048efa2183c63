"""Delete a group's endpoints when its stack is deleted, so ``cdk destroy`` leaves none running.

A CloudFormation custom resource behind the CDK ``custom_resources.Provider`` framework:
Create and Update only name the resource; Delete removes every endpoint listed in
``EndpointNames`` (unless ``RetainEndpoints`` is ``"true"``) together with the endpoint
configs and models the deploy action created for it, which are named
``<endpointName>-<suffix>``. ``DeleteEndpoint`` is asynchronous and is not waited for.
Anything already gone is fine: a Delete can be retried, or follow a manual cleanup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from botocore.exceptions import ClientError

from shared.contract import (
    PROP_ENDPOINT_NAMES,
    PROP_GROUP_NAME,
    PROP_RETAIN_ENDPOINTS,
    PROP_STAGE_TARGETS,
)
from shared.observability import logger
from shared.stage_access import InvalidStageTarget, StageClients, StageTarget, session_name

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from mypy_boto3_sagemaker import SageMakerClient

RequestType = Literal["Create", "Update", "Delete"]
_REQUEST_TYPES: Final = ("Create", "Update", "Delete")
PHYSICAL_ID_PREFIX: Final = "greenlight-endpoint-cleanup"


class InvalidCleanupRequest(ValueError):
    """The custom resource event is not what the Provider framework sends; names the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"endpoint cleanup request: {field} {problem}")
        self.field = field


@dataclass(frozen=True)
class CleanupRequest:
    request_type: RequestType
    #: None only on Create: CloudFormation has not named the resource yet.
    physical_resource_id: str | None
    logical_resource_id: str
    group_name: str | None
    endpoint_names: tuple[str, ...]
    retain_endpoints: bool
    #: Endpoint name → the stage role and region of an endpoint in another account.
    targets: Mapping[str, StageTarget] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> CleanupRequest:
        request_type = event.get("RequestType")
        if request_type not in _REQUEST_TYPES:
            raise InvalidCleanupRequest(
                "RequestType", f"must be one of {', '.join(_REQUEST_TYPES)}, got {request_type!r}"
            )
        properties = event.get("ResourceProperties")
        if not isinstance(properties, dict):
            raise InvalidCleanupRequest("ResourceProperties", "must be an object")
        names = properties.get(PROP_ENDPOINT_NAMES, [])
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise InvalidCleanupRequest(
                f"ResourceProperties.{PROP_ENDPOINT_NAMES}",
                f"must be a list of endpoint names, got {names!r}",
            )
        retain = str(properties.get(PROP_RETAIN_ENDPOINTS, "false")).lower()
        if retain not in ("true", "false"):
            raise InvalidCleanupRequest(
                f"ResourceProperties.{PROP_RETAIN_ENDPOINTS}",
                f'must be "true" or "false", got {properties.get(PROP_RETAIN_ENDPOINTS)!r}',
            )
        physical_id = event.get("PhysicalResourceId")
        if request_type != "Create" and not physical_id:
            raise InvalidCleanupRequest("PhysicalResourceId", f"is required on {request_type}")
        group = properties.get(PROP_GROUP_NAME)
        return cls(
            targets=_targets(properties.get(PROP_STAGE_TARGETS, {})),
            request_type=request_type,
            physical_resource_id=str(physical_id) if physical_id else None,
            logical_resource_id=str(event.get("LogicalResourceId", "EndpointCleanup")),
            group_name=str(group) if group else None,
            endpoint_names=tuple(dict.fromkeys(names)),
            retain_endpoints=retain == "true",
        )


@dataclass(frozen=True)
class CleanupResult:
    physical_resource_id: str
    deleted_endpoints: tuple[str, ...] = ()
    deleted_endpoint_configs: tuple[str, ...] = ()
    deleted_models: tuple[str, ...] = ()
    retained_endpoints: tuple[str, ...] = ()

    def to_response(self) -> dict[str, Any]:
        """The Provider framework's onEvent response (Data values must be strings)."""
        return {
            "PhysicalResourceId": self.physical_resource_id,
            "Data": {
                "DeletedEndpoints": ",".join(self.deleted_endpoints),
                "RetainedEndpoints": ",".join(self.retained_endpoints),
            },
        }


def on_event(request: CleanupRequest, *, sagemaker: SageMakerClient | None = None) -> CleanupResult:
    """Handle one custom resource request; only Delete touches SageMaker."""
    physical_id = request.physical_resource_id or _new_physical_id(request)
    if request.request_type != "Delete":
        # Keep the physical id stable on Update: a new one would make CloudFormation
        # send a Delete for the old one, and that deletes the endpoints.
        return CleanupResult(physical_resource_id=physical_id)
    if request.retain_endpoints:
        logger.info("retaining endpoints %s", ", ".join(request.endpoint_names))
        return CleanupResult(
            physical_resource_id=physical_id, retained_endpoints=request.endpoint_names
        )
    stages: dict[StageTarget, StageClients] = {}
    endpoints: list[str] = []
    configs: list[str] = []
    models: list[str] = []
    for name in request.endpoint_names:
        target = request.targets.get(name, StageTarget())
        client: SageMakerClient = sagemaker or stages.setdefault(
            target, StageClients(target, session_name=session_name())
        ).client("sagemaker")
        # Looked up first: the role may delete only endpoints that carry Deploy's tag,
        # so IAM refuses a DeleteEndpoint on one that does not exist (it has no tag).
        if _exists(client, name) and _deleted(client.delete_endpoint, EndpointName=name):
            endpoints.append(name)
        prefix = f"{name}-"
        # Listed in full before deleting, so that deletions do not shift the pages.
        for config in list(_names(client, "endpoint_configs", prefix)):
            if _deleted(client.delete_endpoint_config, EndpointConfigName=config):
                configs.append(config)
        for model in list(_names(client, "models", prefix)):
            if _deleted(client.delete_model, ModelName=model):
                models.append(model)
    logger.info(
        "deleted endpoints %s, endpoint configs %s, models %s",
        endpoints,
        configs,
        models,
    )
    return CleanupResult(
        physical_resource_id=physical_id,
        deleted_endpoints=tuple(endpoints),
        deleted_endpoint_configs=tuple(configs),
        deleted_models=tuple(models),
    )


def _targets(raw: Any) -> dict[str, StageTarget]:
    field_name = f"ResourceProperties.{PROP_STAGE_TARGETS}"
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise InvalidCleanupRequest(field_name, f"must map endpoint names to objects, got {raw!r}")
    try:
        return {str(name): StageTarget.from_parameters(value) for name, value in raw.items()}
    except InvalidStageTarget as error:
        raise InvalidCleanupRequest(field_name, str(error)) from None


def _new_physical_id(request: CleanupRequest) -> str:
    return f"{PHYSICAL_ID_PREFIX}-{request.group_name or request.logical_resource_id}"


def _deleted(delete: Callable[..., object], **name: str) -> bool:
    """Run one Delete call; False when the thing was already gone, other errors raise."""
    try:
        delete(**name)
    except ClientError as error:
        if _is_missing(error):
            return False
        raise
    return True


def _exists(client: SageMakerClient, endpoint: str) -> bool:
    try:
        client.describe_endpoint(EndpointName=endpoint)
    except ClientError as error:
        if _is_missing(error):
            return False
        raise
    return True


def _is_missing(error: ClientError) -> bool:
    details = error.response.get("Error", {})
    message = details.get("Message", "")
    return details.get("Code") in ("ValidationException", "ResourceNotFound") and (
        "Could not find" in message or "does not exist" in message
    )


def _names(
    client: SageMakerClient,
    kind: Literal["endpoint_configs", "models"],
    prefix: str,
) -> Iterator[str]:
    """Names of endpoint configs or models starting with ``prefix``."""
    if kind == "endpoint_configs":
        for page in client.get_paginator("list_endpoint_configs").paginate(NameContains=prefix):
            for config in page["EndpointConfigs"]:
                name = config["EndpointConfigName"]
                if name.startswith(prefix):
                    yield name
    else:
        for models_page in client.get_paginator("list_models").paginate(NameContains=prefix):
            for model in models_page["Models"]:
                name = model["ModelName"]
                if name.startswith(prefix):
                    yield name
