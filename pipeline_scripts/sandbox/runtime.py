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
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from pipeline_scripts.sandbox.template import FunctionSpec

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"
#: Lambda retries a failed asynchronous invocation twice.
ASYNC_ATTEMPTS = 3
#: What Lambda puts in every function's environment (the role's credentials among it).
LAMBDA_ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "AKIAGREENLIGHTLAMBDA",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
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
        #: Each function's own boto3 default session: its clients resolve the function's
        #: credentials, never those of whoever else in this process made a client first.
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
                {**LAMBDA_ENVIRONMENT, "AWS_LAMBDA_FUNCTION_NAME": spec.name, **spec.environment}
            ),
            self._own_session(spec.name),
        ):
            return handler(dict(event), LambdaContext(spec.name))

    @contextmanager
    def _own_session(self, function: str) -> Iterator[None]:
        saved = boto3.DEFAULT_SESSION
        boto3.DEFAULT_SESSION = self._sessions.setdefault(function, boto3.Session())
        try:
            yield
        finally:
            boto3.DEFAULT_SESSION = saved

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

    def _handler(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        handler = self._handlers.get(spec.name)
        if handler is None:
            module_path, _, attribute = spec.handler.rpartition(".")
            module = _load_module(module_path, f"sandbox_{spec.logical_id}")
            handler = getattr(module, attribute)
            self._handlers[spec.name] = handler
        return handler


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
