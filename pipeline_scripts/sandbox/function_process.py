"""What a function's own process has while it runs in the sandbox: Lambda's environment
variables and the role's credentials, the context object, its own boto3 default
session, its own stdout, and its own copy of its handler module."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

import boto3
import botocore.loaders
import botocore.session

from pipeline_scripts.emulation.iam import function_access_key

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


class LambdaContext:
    """The attributes of Lambda's context object that handlers read."""

    def __init__(self, function_name: str, remaining_seconds: Callable[[], float]) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self._remaining_seconds = remaining_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int(self._remaining_seconds() * 1000), 0)


@contextmanager
def own_session(sessions: dict[str, boto3.Session], function_name: str) -> Iterator[None]:
    """boto3's default session, as the function's own process would have it: it
    reads the function's credentials once, and no other function uses it."""
    session = sessions.get(function_name)
    if session is None:
        session = sessions[function_name] = _new_session()
    if not isinstance(boto3.DEFAULT_SESSION, _FunctionSessions):
        boto3.DEFAULT_SESSION = _FunctionSessions(boto3.DEFAULT_SESSION)  # type: ignore[assignment]
    token = _running_session.set(session)
    try:
        yield
    finally:
        _running_session.reset(token)


#: The service models every function's session reads: files that never change, so the
#: sessions share one loader and parse each model once per process, not once per function.
_MODELS = botocore.loaders.create_loader()


def _new_session() -> boto3.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _MODELS)
    session = boto3.Session(botocore_session=core)
    # boto3 adds its own data folder to the loader of each session it wraps: once is enough.
    _MODELS.search_paths[:] = list(dict.fromkeys(_MODELS.search_paths))
    return session


#: The boto3 session of the function running in this thread (each thread of a served
#: sandbox has its own), or None outside a function.
_running_session: ContextVar[boto3.Session | None] = ContextVar("running_session", default=None)


#: Where stdout goes for the function running in this thread: its output, or None.
_running_output: ContextVar[deque[str] | None] = ContextVar("running_output", default=None)


class _FunctionOutput:
    """``sys.stdout`` while functions run: a running function's writes go to its own
    output, anything else to the stream that was stdout before."""

    def __init__(self, outer: TextIO) -> None:
        self.outer = outer

    def write(self, text: str) -> int:
        output = _running_output.get()
        if output is None:
            return self.outer.write(text)
        output.append(text)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.outer, name)


@contextmanager
def function_output(output: deque[str]) -> Iterator[None]:
    token = _running_output.set(output)
    outer = sys.stdout
    installed = not isinstance(outer, _FunctionOutput)
    if installed:
        sys.stdout = _FunctionOutput(outer)
    try:
        yield
    finally:
        _running_output.reset(token)
        if installed and isinstance(sys.stdout, _FunctionOutput):
            sys.stdout = outer


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


def load_module(code: Path, dotted: str, unique_name: str) -> ModuleType:
    path = code.joinpath(*dotted.split(".")).with_suffix(".py")
    spec = importlib.util.spec_from_file_location(unique_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load handler module {dotted} from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
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
