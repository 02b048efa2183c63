"""Put the emulators behind moto's own service endpoints.

With ``ServiceRoutes`` installed, a plain boto3 client — the Lambda handlers' own, the
``greenlight`` CLI's, or a user's pointed at a sandbox server with ``AWS_ENDPOINT_URL``
— reaches the emulated operation when it calls an operation listed here, and moto for
everything else. Requests are decoded and responses encoded by moto with botocore's
service model, so shapes, timestamps and error codes are those of the real service.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import botocore.session
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

#: The access key of the request an emulated operation is serving, while it runs.
_CALLER: ContextVar[str | None] = ContextVar("caller_access_key", default=None)
#: The account (and region) that request is served in: moto's, from its access key.
_ACCOUNT: ContextVar[tuple[str, str] | None] = ContextVar("caller_account", default=None)


def caller_access_key() -> str | None:
    """The access key that signed the request being served (None outside a request)."""
    return _CALLER.get()


def caller_account() -> tuple[str, str] | None:
    """(account, region) of the request being served (None outside a request)."""
    return _ACCOUNT.get()


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
            with _serving(response):
                try:
                    result = implementation(**params)
                except ClientError as error:
                    raise _rest_error(error) from None
            return ActionResult(dict(result))

        self._install(owner, method_name, handle)

    def refuse_unimplemented(self, service: str) -> None:
        """Answer every operation of ``service`` that neither moto nor a route serves with
        an AWS-shaped JSON error (400, ``UnsupportedOperation``) instead of moto's
        NotImplementedError, which a served sandbox turns into an HTML 500."""
        owner = _RESPONSE_CLASSES[service]
        model = botocore.session.get_session().get_service_model(service)
        for operation in model.operation_names:
            method_name = camelcase_to_underscores(operation)
            if callable(getattr(owner, method_name, None)):
                continue

            def refuse(_response: BaseResponse, operation: str = operation) -> ActionResult:
                raised = JsonRESTError(
                    "UnsupportedOperation",
                    f"{model.service_id} {operation} is not emulated by the Greenlight sandbox "
                    "(docs/aws-behaviour.md lists what is)",
                )
                raised.code = 400
                raise raised

            self._install(owner, method_name, refuse)

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
            with _serving(response):
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


@contextmanager
def _serving(response: BaseResponse) -> Iterator[None]:
    """Who the request is from, and where it is served, while an emulation handles it."""
    caller = _CALLER.set(response.get_access_key())
    account = _ACCOUNT.set((str(response.current_account), str(response.region)))
    try:
        yield
    finally:
        _ACCOUNT.reset(account)
        _CALLER.reset(caller)


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
