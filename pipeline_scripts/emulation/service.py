"""Put the emulators behind moto's own service endpoints.

With ``ServiceRoutes`` installed, a plain boto3 client — the Lambda handlers' own, the
``greenlight`` CLI's, or a user's pointed at a sandbox server with ``AWS_ENDPOINT_URL``
— reaches the emulated operation when it calls an operation listed here, and moto for
everything else. Requests are decoded and responses encoded by moto with botocore's
service model, so shapes, timestamps and error codes are those of the real service.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError
from moto.cloudwatch.responses import CloudWatchResponse
from moto.codepipeline.responses import CodePipelineResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import camelcase_to_underscores
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

#: An emulated operation: the request's parameters as keyword arguments → the response.
Operation = Callable[..., Mapping[str, Any]]
#: Runs around moto's own handling of an operation, given the request's parameters.
Hook = Callable[[Mapping[str, Any]], None]

_RESPONSE_CLASSES: dict[str, type[BaseResponse]] = {
    "cloudwatch": CloudWatchResponse,
    "codepipeline": CodePipelineResponse,
    "sagemaker": SageMakerResponse,
    "sagemaker-runtime": SageMakerRuntimeResponse,
}


class ServiceRoutes:
    """Routes named operations of moto's services to emulated implementations."""

    def __init__(self) -> None:
        self._originals: dict[tuple[type, str], Any] = {}

    def route(self, service: str, operation: str, implementation: Operation) -> None:
        """Serve ``operation`` (e.g. ``ListActionExecutions``) of ``service`` with
        ``implementation``, called with the request's top-level parameters."""
        owner = _RESPONSE_CLASSES[service]
        method_name = camelcase_to_underscores(operation)

        def handle(response: BaseResponse) -> ActionResult:
            params = _request_params(response)
            try:
                result = implementation(**params)
            except ClientError as error:
                raise _rest_error(error) from None
            return ActionResult(dict(result))

        self._install(owner, method_name, handle)

    def wrap(
        self,
        service: str,
        operation: str,
        *,
        before: Hook | None = None,
        after: Hook | None = None,
    ) -> None:
        """Keep moto's own ``operation`` but run ``before`` (which may refuse the call by
        raising a ClientError) and ``after`` around it."""
        owner = _RESPONSE_CLASSES[service]
        method_name = camelcase_to_underscores(operation)
        original = getattr(owner, method_name)

        def handle(response: BaseResponse) -> Any:
            params = _request_params(response)
            try:
                if before is not None:
                    before(params)
                result = original(response)
                if after is not None:
                    after(params)
            except ClientError as error:
                raise _rest_error(error) from None
            return result

        self._install(owner, method_name, handle)

    def _install(self, owner: type, method_name: str, handle: Callable[..., Any]) -> None:
        key = (owner, method_name)
        if key not in self._originals:
            self._originals[key] = owner.__dict__.get(method_name)
        setattr(owner, method_name, handle)

    def uninstall(self) -> None:
        for (owner, name), original in self._originals.items():
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._originals.clear()


def _request_params(response: BaseResponse) -> dict[str, Any]:
    """The request's parameters: the JSON body for CodePipeline and SageMaker; for
    sagemaker-runtime's REST calls, the endpoint name from the path; for services moto
    parses from botocore's model (CloudWatch's CBOR or query), moto's parsed values."""
    if getattr(response, "automated_parameter_parsing", False):
        return dict(response.params)
    if isinstance(response, SageMakerRuntimeResponse):
        parts = response.path.split("/")
        return {"EndpointName": parts[2]} if len(parts) > 2 else {}
    body = response.body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if not body:
        return {}
    params: dict[str, Any] = json.loads(body)
    return params


def _rest_error(error: ClientError) -> JsonRESTError:
    """The error moto sends back for a ClientError an emulation raised."""
    details = error.response.get("Error", {})
    raised = JsonRESTError(details.get("Code", "ValidationException"), details.get("Message", ""))
    raised.code = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
    return raised
