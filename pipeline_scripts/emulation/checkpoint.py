"""One checkpoint every request to the sandbox's AWS passes, before it is served.

moto authorizes each request it serves at one place (``ActionAuthenticatorMixin``), for
every service, S3 included, in-process and through the sandbox server alike. The
checkpoint runs there: it decodes the request with botocore's service model into a
``ServiceRequest`` — who is calling (the access key and account), which operation, with
which parameters — and hands it to each registered check. A check refuses a request by
raising ``RequestRefused``; the caller then gets an AWS-shaped error in the service's
own protocol (JSON or XML), and the operation does not run.

This is how the sandbox is as strict as AWS around moto: IAM evaluation and the service
model's constraints are checks (see ``docs/aws-behaviour.md``).

An *after-check* runs once the operation has been served (successfully), with the same
request: it may still turn the answer into an error (the call took effect; the caller
hears it failed). That is how faults "after the call took effect" are injected. It sees
the requests moto serves through its generic dispatch: every service but S3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError, _RESTError
from moto.core.model import ServiceModel
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.request import determine_request_protocol
from moto.core.responses import BaseResponse
from moto.core.utils import get_service_model


@dataclass(frozen=True)
class ServiceRequest:
    """One request, as AWS sees it before serving it."""

    #: botocore's name of the service: ``sagemaker``, ``codepipeline``, ``s3`` …
    service: str
    #: The operation's name in the service model: ``UpdateEndpoint`` …
    operation: str
    #: The request's parameters, decoded with the service model (top-level members).
    params: Mapping[str, Any]
    access_key: str
    account: str
    region: str


class RequestRefused(Exception):
    """A check's refusal: the error code and message the caller receives."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


Check = Callable[[ServiceRequest], None]

#: The protocols whose errors are JSON; the others (query, ec2, rest-xml) answer in XML.
_JSON_PROTOCOLS = frozenset({"json", "rest-json", "smithy-rpc-v2-cbor"})


class RequestCheckpoint:
    """The checks every request passes. ``install`` puts them in moto's path."""

    def __init__(self) -> None:
        self._checks: list[Check] = []
        self._after: list[Check] = []
        self._original: Any = None
        self._original_dispatch: Any = None

    def add(self, check: Check) -> None:
        self._checks.append(check)

    def remove(self, check: Check) -> None:
        self._checks.remove(check)

    def add_after(self, check: Check) -> None:
        """Run ``check`` on each request once it has been served successfully."""
        self._after.append(check)

    def remove_after(self, check: Check) -> None:
        self._after.remove(check)

    @contextmanager
    def checking(self, check: Check) -> Iterator[None]:
        """Run ``check`` too, for the duration of the block."""
        self.add(check)
        try:
            yield
        finally:
            self.remove(check)

    def install(self) -> None:
        if self._original is not None:
            return
        original = ActionAuthenticatorMixin._authenticate_and_authorize_action
        checkpoint = self

        def authorize(response: Any, iam_request_cls: type, resource: str = "*") -> None:
            original(response, iam_request_cls, resource)
            checkpoint.check(response)

        self._original = original
        ActionAuthenticatorMixin._authenticate_and_authorize_action = authorize  # type: ignore[method-assign,assignment]
        self._install_after()

    def _install_after(self) -> None:
        original = BaseResponse._dispatch
        checkpoint = self

        def dispatch(response: BaseResponse, *args: Any, **kwargs: Any) -> Any:
            served = original(response, *args, **kwargs)
            checkpoint.check_after(response, int(served[0]))
            return served

        self._original_dispatch = original
        BaseResponse._dispatch = dispatch  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self._original is None:
            return
        ActionAuthenticatorMixin._authenticate_and_authorize_action = self._original  # type: ignore[method-assign]
        BaseResponse._dispatch = self._original_dispatch  # type: ignore[method-assign]
        self._original = None
        self._original_dispatch = None

    def check(self, response: BaseResponse) -> None:
        """Run every check on the request ``response`` is about to serve."""
        if not self._checks and not self._after:
            return
        request = service_request(response)
        # The after-checks see the request as it was decoded here.
        response.__dict__[_CHECKED] = request
        try:
            for check in list(self._checks):
                check(request)
        except RequestRefused as refused:
            raise _error_for(response, refused) from None

    def check_after(self, response: BaseResponse, status: int) -> None:
        """Run the after-checks on a request that was served with ``status``."""
        request = response.__dict__.get(_CHECKED)
        if request is None or status >= 300 or not self._after:
            return
        try:
            for check in list(self._after):
                check(request)
        except RequestRefused as refused:
            raise _error_for(response, refused) from None


#: Where ``check`` leaves the decoded request on the response object serving it.
_CHECKED = "_greenlight_checked_request"


def service_request(response: BaseResponse) -> ServiceRequest:
    """The request moto is about to serve, decoded with botocore's service model."""
    service = str(getattr(response, "boto3_service_name", None) or response.service_name)
    operation = _operation(response, service)
    return ServiceRequest(
        service=service,
        operation=operation,
        params=_params(response, service, operation),
        access_key=response.get_access_key(),
        account=str(response.current_account),
        region=str(response.region),
    )


def _operation(response: BaseResponse, service: str) -> str:
    """The operation's name in the service model. moto names some S3 requests by their
    IAM action (``ListAllMyBuckets``); botocore's routing table names them as the model
    does (``ListBuckets``)."""
    operations = get_service_model(service).operation_names
    action = str(response._get_action() or "")
    if action in operations:
        return action
    routed = response._get_action_from_method_and_request_uri(response.normalized_request)
    return str(routed) if routed in operations else action


def _params(response: BaseResponse, service: str, operation: str) -> Mapping[str, Any]:
    parsed = getattr(response, "params", None)
    if response.automated_parameter_parsing and isinstance(parsed, Mapping):
        return parsed
    if operation not in get_service_model(service).operation_names:
        return {}
    service_model = get_service_model(service)
    request = response.normalized_request
    protocol = determine_request_protocol(service_model, request.content_type)
    parser = PROTOCOL_PARSERS[protocol](
        service_model.operation_model(operation), map_type=response.PROTOCOL_PARSER_MAP_TYPE
    )
    params: Mapping[str, Any] = parser.parse(
        {
            "method": request.method,
            "values": request.values,
            "headers": request.headers,
            "body": request.data,
            "url_path": request.path,
            "url_params": getattr(response, "uri_match", None) or {},
        }
    )
    return params


def _protocol(service: str) -> str:
    model: ServiceModel = get_service_model(service)
    return str(model.protocol)


def _error_for(response: BaseResponse, refused: RequestRefused) -> _RESTError:
    """The refusal in the service's own error format."""
    service = str(getattr(response, "boto3_service_name", None) or response.service_name)
    protocol = _protocol(service)
    if protocol in _JSON_PROTOCOLS:
        error: _RESTError = JsonRESTError(refused.code, refused.message)
    else:
        error = _RESTError(refused.code, refused.message)
        if protocol == "rest-xml":
            # S3 answers with a bare <Error>, not the query protocols' <ErrorResponse>.
            error.description = (
                '<?xml version="1.0" encoding="utf-8"?>\n'
                f"<Error><Code>{escape(refused.code)}</Code>"
                f"<Message>{escape(refused.message)}</Message></Error>"
            )
    error.code = refused.status
    return error
