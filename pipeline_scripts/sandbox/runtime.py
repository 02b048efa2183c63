"""Lambda, in-process: the template's functions run their real handler code.

Each function gets its own copy of its handler module, so module-level state that a
handler keeps between invocations (clients, settings read at cold start) belongs to
that function alone, as it would in its own Lambda execution environment. The
function's environment variables from the template are in ``os.environ`` while it runs.

Invocations from EventBridge are asynchronous in AWS: a handler that raises is tried
twice more, and then the event goes to the function's dead-letter destination. The
runtime follows that, and keeps what ended in the dead-letter queue.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from pipeline_scripts.emulation.iam import function_access_key
from pipeline_scripts.sandbox.template import FunctionSpec

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"
#: Lambda retries a failed asynchronous invocation twice.
ASYNC_ATTEMPTS = 3
#: What Lambda puts in every function's environment; ``credentials`` adds the role's.
LAMBDA_ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def credentials(function_name: str) -> dict[str, str]:
    """The session credentials of the function's execution role, as Lambda sets them:
    a key of the function's own, which the sandbox's IAM check maps to its role."""
    return {
        "AWS_ACCESS_KEY_ID": function_access_key(function_name),
        "AWS_SECRET_ACCESS_KEY": "sandbox",
        "AWS_SESSION_TOKEN": f"sandbox-session-{function_name}",
    }


@dataclass(frozen=True)
class DeadLetter:
    function: str
    event: Mapping[str, Any]
    error: str


class LambdaContext:
    """The attributes of Lambda's context object that handlers read."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


class LambdaRuntime:
    def __init__(self, functions: Mapping[str, FunctionSpec]) -> None:
        self._by_name = {spec.name: spec for spec in functions.values()}
        self._by_logical_id = dict(functions)
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._sessions: dict[str, boto3.Session] = {}
        self.dead_letters: list[DeadLetter] = []

    def spec(self, name_or_logical_id: str) -> FunctionSpec:
        spec = self._by_name.get(name_or_logical_id) or self._by_logical_id.get(name_or_logical_id)
        if spec is None:
            raise KeyError(f"no function {name_or_logical_id!r} in the template")
        return spec

    def invoke(self, function: str, event: Mapping[str, Any]) -> Any:
        """A synchronous invocation: the handler's result, or its exception."""
        spec = self.spec(function)
        handler = self._handler(spec)
        with (
            _environment(
                {
                    **LAMBDA_ENVIRONMENT,
                    **credentials(spec.name),
                    "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                    **spec.environment,
                }
            ),
            self._own_session(spec.name),
        ):
            return handler(dict(event), LambdaContext(spec.name))

    def invoke_async(self, function: str, event: Mapping[str, Any]) -> Any:
        """An asynchronous invocation with Lambda's retries: the handler's result, or
        None when every attempt raised and the event went to the dead-letter queue."""
        error: Exception | None = None
        for _ in range(ASYNC_ATTEMPTS):
            try:
                return self.invoke(function, event)
            except Exception as raised:
                error = raised
        self.dead_letters.append(
            DeadLetter(
                function=self.spec(function).name,
                event=event,
                error=f"{type(error).__name__}: {error}",
            )
        )
        return None

    @contextmanager
    def _own_session(self, function_name: str) -> Iterator[None]:
        """boto3's default session, as the function's own process would have it: it
        reads the function's credentials once, and no other function uses it."""
        session = self._sessions.get(function_name)
        if session is None:
            session = self._sessions[function_name] = boto3.Session()
        if not isinstance(boto3.DEFAULT_SESSION, _FunctionSessions):
            boto3.DEFAULT_SESSION = _FunctionSessions(boto3.DEFAULT_SESSION)  # type: ignore[assignment]
        token = _running_session.set(session)
        try:
            yield
        finally:
            _running_session.reset(token)

    def _handler(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        handler = self._handlers.get(spec.name)
        if handler is None:
            module_path, _, attribute = spec.handler.rpartition(".")
            module = _load_module(module_path, f"sandbox_{spec.logical_id}")
            handler = getattr(module, attribute)
            self._handlers[spec.name] = handler
        return handler


#: The boto3 session of the function running in this thread (each thread of a served
#: sandbox has its own), or None outside a function.
_running_session: ContextVar[boto3.Session | None] = ContextVar("running_session", default=None)


class _FunctionSessions:
    """boto3's default session: the running function's own while one runs in this
    thread, else the session boto3 would have used."""

    def __init__(self, outer: boto3.Session | None) -> None:
        self._outer = outer

    def __getattr__(self, name: str) -> Any:
        session = _running_session.get()
        if session is None:
            if self._outer is None:
                self._outer = boto3.Session()
            session = self._outer
        return getattr(session, name)


def _load_module(dotted: str, unique_name: str) -> ModuleType:
    path = LAMBDAS_DIR.joinpath(*dotted.split(".")).with_suffix(".py")
    spec = importlib.util.spec_from_file_location(unique_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load handler module {dotted} from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
