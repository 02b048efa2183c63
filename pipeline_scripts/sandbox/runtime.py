"""Lambda, in-process: the template's functions run their real handler code, held to
their synthesized ``Timeout`` (docs/aws-behaviour.md, sections Lambda and Time).

Each function gets its own copy of its handler module, so module-level state that a
handler keeps between invocations (clients, settings read at cold start) belongs to
that function alone, as it would in its own Lambda execution environment. The
function's environment variables from the template are in ``os.environ`` while it runs.

Time: an invocation's duration is the real (monotonic) time it takes plus the virtual
time that passes while it runs (its sleeps on ``shared.clock.current_clock()``, and the
emulated services' latencies). A sleep that would cross the invocation's timeout moves
the clock to the deadline and kills the function there: ``_Killed`` is a BaseException,
so handler code's ``except Exception`` cannot catch it and report a result. A job answer
sent after the deadline is refused the same way (``check_deadline``), and an invocation
that returns past its timeout is also timed out: its result is discarded. The invoker
sees ``FunctionTimedOut``.

Asynchronous invocations (EventBridge rule targets) that raise or time out are retried
as the function's ``EventInvokeConfig`` says, after Lambda's documented waits, and the
event then goes to the function's dead-letter queue (``DeadLetterConfig``), or is
dropped when it has none. Both are kept in ``dead_letters``.

Output: what a function writes to stdout while it runs (its JSON log lines and its
embedded-format metrics) goes to its own log, ``output(function)``, as Lambda sends it
to the function's log group, and not to the terminal that runs the sandbox.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

import shared
from pipeline_scripts.emulation.faults import ProcessCrashed
from pipeline_scripts.sandbox.app_spec import FunctionSpec, QueueRef
from pipeline_scripts.sandbox.function_process import (
    LAMBDA_ENVIRONMENT,
    LambdaContext,
    credentials,
    environment,
    function_output,
    load_module,
    own_session,
)
from shared.clock import Clock, SystemClock, current_clock, install_clock, installed_clock

#: The folder the functions' packages are loaded from, where ``shared`` sits beside them:
#: lambdas/ in a checkout, site-packages in an installed ``greenlight[sandbox]``.
LAMBDAS_DIR = Path(shared.__file__).resolve().parents[1]
#: Lambda's waits before the first and the second retry of a failed asynchronous
#: invocation ("one minute … two minutes").
ASYNC_RETRY_WAITS_SECONDS = (60.0, 120.0)
#: The most output chunks kept per function (a served sandbox runs for hours).
OUTPUT_LIMIT = 20_000


class FunctionTimedOut(Exception):
    """Lambda stopped the invocation at the function's timeout."""

    def __init__(self, function: str, timeout_seconds: float) -> None:
        super().__init__(f"{function}: Task timed out after {timeout_seconds:.2f} seconds")
        self.function = function


class FunctionCrashed(Exception):
    """The function's process died (an injected ``crash`` fault): Lambda reports the
    invocation as a function error, ``Runtime.ExitError``, and retries it when it was
    asynchronous."""

    def __init__(self, function: str, cause: str) -> None:
        super().__init__(
            f"{function}: Runtime exited with error: signal: killed ({cause}) Runtime.ExitError"
        )
        self.function = function


class _Killed(BaseException):
    """Raised inside the handler at the point Lambda stops it. Not an Exception: the
    handler's own ``except Exception`` must not catch it and carry on."""


@dataclass(frozen=True)
class DeadLetter:
    function: str
    event: Mapping[str, Any]
    error: str
    #: The function's dead-letter queue; None when it has none and the event was dropped.
    queue: QueueRef | None = None
    #: True when the message was put on that queue in the sandbox's SQS.
    sent: bool = False


@dataclass(frozen=True)
class InvocationRecord:
    """How long one invocation ran, against its function's timeout, and how it ended."""

    function: str
    seconds: float
    timeout_seconds: float
    outcome: str  # returned | raised | timed out | crashed


class _Invocation:
    """One running invocation's time budget: real time plus virtual time."""

    def __init__(self, spec: FunctionSpec, clock: Clock) -> None:
        self.spec = spec
        self.clock = clock
        self._real_start = time.monotonic()
        self._virtual_start: datetime = clock.now()

    def elapsed(self) -> float:
        real = time.monotonic() - self._real_start
        if isinstance(self.clock, SystemClock):  # its time is the real time already
            return real
        return real + (self.clock.now() - self._virtual_start).total_seconds()

    def remaining(self) -> float:
        return self.spec.timeout_seconds - self.elapsed()


class _InvocationClock:
    """The clock a handler sees while it runs: the sandbox's, but a sleep that would
    cross the deadline ends at the deadline, with the function killed."""

    def __init__(self, invocation: _Invocation) -> None:
        self._invocation = invocation

    def now(self) -> datetime:
        return self._invocation.clock.now()

    def sleep(self, seconds: float) -> None:
        remaining = self._invocation.remaining()
        if seconds >= remaining:
            self._invocation.clock.sleep(max(remaining, 0.0))
            raise _Killed
        self._invocation.clock.sleep(seconds)


SqsFactory = Callable[[], Any]


class LambdaRuntime:
    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        *,
        clock: Clock | None = None,
        sqs: SqsFactory | None = None,
        code: Path = LAMBDAS_DIR,
    ) -> None:
        """``clock`` is where time passes between asynchronous retries (the installed
        clock when None); ``sqs`` makes the client that dead letters are sent with
        (without one they are only kept in ``dead_letters``); ``code`` is the folder
        the handlers are loaded from."""
        self._by_name = {spec.name: spec for spec in functions.values()}
        self._by_logical_id = dict(functions)
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._clock = clock or current_clock()
        self._sqs = sqs
        self._code = code
        self._running: _Invocation | None = None
        self._sessions: dict[str, boto3.Session] = {}
        self.dead_letters: list[DeadLetter] = []
        self.invocations: list[InvocationRecord] = []
        self._output: dict[str, deque[str]] = {}
        #: Every asynchronous delivery: (function name, the event's id), in order.
        self.deliveries: list[tuple[str, str]] = []

    def spec(self, name_or_logical_id: str) -> FunctionSpec:
        spec = self._by_name.get(name_or_logical_id) or self._by_logical_id.get(name_or_logical_id)
        if spec is None:
            raise KeyError(f"no function {name_or_logical_id!r} in the template")
        return spec

    def invoke(self, function: str, event: Mapping[str, Any]) -> Any:
        """One invocation: the handler's result, its exception, or FunctionTimedOut."""
        spec = self.spec(function)
        handler = self._handler(spec)
        invocation = _Invocation(spec, installed_clock())
        context = LambdaContext(spec.name, invocation.remaining)
        variables = {
            **LAMBDA_ENVIRONMENT,
            **credentials(spec.name),
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            **spec.environment,
        }
        outer, self._running = self._running, invocation
        try:
            with (
                environment(variables),
                own_session(self._sessions, spec.name),
                _installed(invocation),
                function_output(self._output.setdefault(spec.name, deque(maxlen=OUTPUT_LIMIT))),
            ):
                result = handler(dict(event), context)
        except _Killed:
            raise self._timed_out(invocation) from None
        except ProcessCrashed as crashed:
            self._record(invocation, "crashed")
            raise FunctionCrashed(spec.name, str(crashed)) from None
        except Exception:
            self._record(invocation, "raised")
            raise
        finally:
            self._running = outer
        if invocation.remaining() < 0:
            raise self._timed_out(invocation)
        self._record(invocation, "returned")
        return result

    def output(self, function: str) -> list[str]:
        """The lines the function (name or logical id) wrote to stdout, oldest first."""
        return "".join(self._output.get(self.spec(function).name, ())).splitlines()

    def check_deadline(self) -> None:
        """Kill the running invocation here if it is past its timeout: what a function
        sends after that point never leaves it. Outside an invocation, nothing."""
        if self._running is not None and self._running.remaining() < 0:
            raise _Killed

    def retry_waits(self, function: str) -> tuple[float, ...]:
        """The waits before each retry of a failed asynchronous invocation, as the
        function's EventInvokeConfig allows (retry count, maximum event age)."""
        spec = self.spec(function)
        waits: list[float] = []
        age = 0.0
        for wait in ASYNC_RETRY_WAITS_SECONDS[: spec.async_retry_attempts]:
            age += wait
            if age > spec.async_max_event_age_seconds:
                break
            waits.append(wait)
        return tuple(waits)

    def invoke_async(self, function: str, event: Mapping[str, Any]) -> Any:
        """An asynchronous invocation with Lambda's retries: the handler's result, or
        None when every attempt failed and the event went to the dead-letter queue."""
        self.deliveries.append((self.spec(function).name, str(event.get("id", ""))))
        error: Exception | None = None
        for wait in (0.0, *self.retry_waits(function)):
            if wait:
                self._clock.sleep(wait)
            try:
                return self.invoke(function, event)
            except Exception as raised:
                error = raised
        self.dead_letter(function, event, f"{type(error).__name__}: {error}")
        return None

    def dead_letter(self, function: str, event: Mapping[str, Any], error: str) -> DeadLetter:
        """Put a failed asynchronous event where the function's DeadLetterConfig says."""
        spec = self.spec(function)
        queue = spec.dead_letter_queue
        sent = queue is not None and self._send(queue, event, error)
        letter = DeadLetter(function=spec.name, event=event, error=error, queue=queue, sent=sent)
        self.dead_letters.append(letter)
        return letter

    def _send(self, queue: QueueRef, event: Mapping[str, Any], error: str) -> bool:
        """Lambda sends the event as is, with RequestID, ErrorCode and ErrorMessage
        attributes. False when the sandbox has no SQS or no such queue."""
        if self._sqs is None:
            return False
        sqs = self._sqs()
        try:
            url = sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
        except ClientError:
            return False
        sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps(event, default=str),
            MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": str(uuid.uuid4())},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": error[:1024]},
            },
        )
        return True

    def _timed_out(self, invocation: _Invocation) -> FunctionTimedOut:
        self._record(invocation, "timed out")
        return FunctionTimedOut(invocation.spec.name, invocation.spec.timeout_seconds)

    def _record(self, invocation: _Invocation, outcome: str) -> None:
        self.invocations.append(
            InvocationRecord(
                function=invocation.spec.name,
                seconds=invocation.elapsed(),
                timeout_seconds=invocation.spec.timeout_seconds,
                outcome=outcome,
            )
        )

    def _handler(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        handler = self._handlers.get(spec.name)
        if handler is None:
            module_path, _, attribute = spec.handler.rpartition(".")
            module = load_module(self._code, module_path, f"sandbox_{spec.logical_id}")
            handler = getattr(module, attribute)
            self._handlers[spec.name] = handler
        return handler


@contextmanager
def _installed(invocation: _Invocation) -> Iterator[None]:
    """The invocation's clock installed for the handler, the previous one restored."""
    install_clock(_InvocationClock(invocation))
    try:
        yield
    finally:
        install_clock(invocation.clock)
