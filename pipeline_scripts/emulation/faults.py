"""Faults injected into the sandbox's AWS, by function and operation: what the drills do
to see what Greenlight survives (docs/aws-behaviour.md, "Faults").

A fault targets the calls one function makes (by its handler package, ``deploy``,
``approval_trigger`` …, or its function name) to one operation (``DescribeEndpoint``, or
``*`` for any), and hits the next ``times`` matching requests after letting ``skip`` of
them pass. Each request is one attempt: the AWS SDK's own retries of a refused call are
requests too, so a fault that should reach the function's code must outlast them (the
SDK's default is five attempts in all). Kinds:

- ``throttle``: refused before it runs, ``ThrottlingException`` (HTTP 400; ``Throttling``
  where the service keeps its query-era error codes: CloudWatch, SQS, the XML ones).
- ``5xx``: refused before it runs, ``InternalFailure`` (HTTP 500), or
  ``ServiceUnavailable`` (HTTP 503) with ``status=503``.
- ``after``: the call runs and takes effect, then the caller receives ``InternalFailure``
  (HTTP 500), as when a response is lost on the way back.
- ``crash``: the call runs and takes effect, then the function's process dies before it
  reads the answer: the invocation ends as Lambda reports a crashed runtime
  (``Runtime.ExitError``), a function error that Lambda retries.
- ``delay``: the call is served ``seconds`` of virtual time later (the function's timeout
  counts it).
- ``interleave``: before the call is served, ``then`` runs (a drill delivers another event
  there): the interleaving of two concurrent handlers, forced at the point that matters.

The SDK's back-off between its retries passes on the sandbox's virtual clock while the
injector is installed, so a drill of many throttled attempts takes no real time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Final, Literal

import botocore.endpoint
from moto.core.utils import get_service_model

from pipeline_scripts.emulation.checkpoint import RequestRefused, ServiceRequest
from pipeline_scripts.emulation.iam import function_access_key
from shared.clock import current_clock

FaultKind = Literal["throttle", "5xx", "after", "crash", "delay", "interleave"]
KINDS: Final[tuple[str, ...]] = ("throttle", "5xx", "after", "crash", "delay", "interleave")
#: Kinds that act before the operation runs; the others act after it took effect.
_BEFORE: Final = frozenset({"throttle", "5xx", "delay", "interleave"})
_JSON_PROTOCOLS: Final = frozenset({"json", "rest-json", "smithy-rpc-v2-cbor"})
ANY_OPERATION: Final = "*"


class UnknownFault(ValueError):
    """A fault that names no function of the template, or no kind the injector has."""


class ProcessCrashed(BaseException):
    """The function's process died in the middle of a call. Not an Exception: handler
    code's ``except Exception`` cannot catch it, as it could not catch a dead process."""

    def __init__(self, function: str, operation: str) -> None:
        super().__init__(f"{function} crashed after {operation} took effect")
        self.function = function
        self.operation = operation


@dataclass
class Fault:
    """One injected fault, and how many requests it has hit so far."""

    function: str
    operation: str
    kind: FaultKind
    times: int = 1
    skip: int = 0
    seconds: float = 0.0
    status: int = 500
    then: Callable[[], None] | None = None
    hits: int = 0
    seen: int = 0

    @property
    def spent(self) -> bool:
        return self.hits >= self.times

    def describe(self) -> str:
        return f"{self.kind} on {self.function} {self.operation} ({self.hits}/{self.times})"


@dataclass(frozen=True)
class _Target:
    """A function whose calls faults may target."""

    name: str
    package: str


class FaultInjector:
    """A checkpoint check (before the call) and an after-check (once it took effect)."""

    def __init__(self, functions: Mapping[str, str]) -> None:
        """``functions``: function name → its handler's package (``deploy`` …)."""
        self._targets = {
            function_access_key(name): _Target(name=name, package=package)
            for name, package in functions.items()
        }
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._saved_time: Any = None
        #: Every fault ever injected, spent or not (for the drills' tallies).
        self.history: list[Fault] = []

    # --- the API drills and tests use ---------------------------------------------------

    def inject(
        self,
        *,
        function: str,
        operation: str = ANY_OPERATION,
        kind: FaultKind,
        times: int = 1,
        skip: int = 0,
        seconds: float = 0.0,
        status: int = 500,
        then: Callable[[], None] | None = None,
    ) -> Fault:
        """Arm a fault on ``function``'s calls to ``operation``; see the module docstring."""
        if kind not in KINDS:
            raise UnknownFault(f"fault kind {kind!r} is not one of {', '.join(KINDS)}")
        if not any(self._names(target, function) for target in self._targets.values()):
            known = ", ".join(sorted({t.package for t in self._targets.values()}))
            raise UnknownFault(f"no function {function!r} in the template (known: {known})")
        if times < 1 or skip < 0:
            raise UnknownFault(f"a fault needs times >= 1 and skip >= 0, not {times} and {skip}")
        if (kind == "interleave") != (then is not None):
            raise UnknownFault("an interleave fault, and only one, runs a `then` callable")
        fault = Fault(
            function=function,
            operation=operation,
            kind=kind,
            times=times,
            skip=skip,
            seconds=seconds,
            status=status,
            then=then,
        )
        with self._lock:
            self._faults.append(fault)
            self.history.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm every fault (their history stays)."""
        with self._lock:
            self._faults.clear()

    @property
    def injected(self) -> int:
        """How many requests a fault has hit so far."""
        return sum(fault.hits for fault in self.history)

    # --- the checkpoint's hooks ---------------------------------------------------------

    def __call__(self, request: ServiceRequest) -> None:
        """Before the call: throttle, 5xx or delay it."""
        fault = self._hit(request, before=True)
        if fault is None:
            return
        if fault.kind == "delay":
            current_clock().sleep(fault.seconds)
            return
        if fault.kind == "interleave" and fault.then is not None:
            fault.then()
            return
        raise _refusal(request, fault)

    def after(self, request: ServiceRequest) -> None:
        """Once the call took effect: lose its answer, or kill the caller."""
        fault = self._hit(request, before=False)
        if fault is None:
            return
        if fault.kind == "crash":
            raise ProcessCrashed(self._targets[request.access_key].name, request.operation)
        raise RequestRefused(
            "InternalFailure",
            f"The request processing has failed because of an unknown error ({request.operation})",
            status=500,
        )

    def _hit(self, request: ServiceRequest, *, before: bool) -> Fault | None:
        target = self._targets.get(request.access_key)
        if target is None:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.spent or (fault.kind in _BEFORE) != before:
                    continue
                if not self._names(target, fault.function):
                    continue
                if fault.operation not in (ANY_OPERATION, request.operation):
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                fault.hits += 1
                return fault
        return None

    @staticmethod
    def _names(target: _Target, function: str) -> bool:
        wanted = function.replace("-", "_")
        return function == target.name or wanted == target.package

    # --- the SDK's retry back-off on the virtual clock ---------------------------------

    def install(self) -> None:
        if self._saved_time is not None:
            return
        self._saved_time = getattr(botocore.endpoint, "time")  # noqa: B009 - not exported
        botocore.endpoint.time = SimpleNamespace(  # type: ignore[attr-defined]
            sleep=lambda seconds: current_clock().sleep(seconds),
            time=time.time,
            monotonic=time.monotonic,
        )

    def uninstall(self) -> None:
        if self._saved_time is None:
            return
        botocore.endpoint.time = self._saved_time  # type: ignore[attr-defined]
        self._saved_time = None

    @contextmanager
    def installed(self) -> Iterator[FaultInjector]:
        self.install()
        try:
            yield self
        finally:
            self.uninstall()


def _refusal(request: ServiceRequest, fault: Fault) -> RequestRefused:
    if fault.kind == "throttle":
        model = get_service_model(request.service)
        json_errors = (
            str(model.protocol) in _JSON_PROTOCOLS and "awsQueryCompatible" not in model.metadata
        )
        return RequestRefused(
            "ThrottlingException" if json_errors else "Throttling", "Rate exceeded", status=400
        )
    if fault.status == 503:
        return RequestRefused(
            "ServiceUnavailable", "The request has failed due to a temporary failure.", status=503
        )
    return RequestRefused(
        "InternalFailure",
        "The request processing has failed because of an unknown error.",
        status=500,
    )
