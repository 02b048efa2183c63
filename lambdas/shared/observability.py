"""Logs and metrics of every Greenlight function, with Powertools for AWS Lambda.

Logs: one JSON logger (:data:`logger`) for all of ``lambdas/``. Each invocation starts
with :func:`invocation`, which puts its correlation ids (event id, pipeline execution
id, model package ARN, stage, group) on every line it logs; :func:`correlate` adds one
found later (the recorder learns the ARN from the execution). Keys are kept per thread
of control (Powertools' thread-safe keys), and cleared when the invocation ends, so an
execution environment's next invocation starts with none. A CodePipeline job event is
never logged: it holds the artifact bucket's credentials (``shared/jobs.py``).

Metrics: CloudWatch embedded metric format (EMF), one JSON line on stdout per
:func:`publish_metrics` call, which CloudWatch Logs turns into metrics in the
``Greenlight`` namespace with the dimensions ``Group`` and ``Stage``. Each call has its
own metric set and flushes it at once: ``Metrics``' set is shared by every instance in
a process, which would mix the metrics of functions that the served sandbox runs side
by side in one process.

Both write to ``sys.stdout`` as it is when they write (Lambda sends stdout to the
function's log group; the sandbox keeps each function's output apart). Log lines are
written only inside an invocation: the CLI, which runs the trigger's logic in its own
process, prints its own words, not the function's log.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

from shared import contract

SERVICE: Final = "greenlight"

#: The correlation key of the event id on log lines; the others are the keywords the
#: handlers give :func:`invocation` and :func:`correlate` (``pipeline_execution_id``,
#: ``model_package_arn``, ``stage``, ``group``).
KEY_EVENT_ID: Final = "event_id"

Unit = Literal["Count", "Seconds"]


#: True while a function invocation runs in this thread of control.
_invoking: ContextVar[bool] = ContextVar("invoking", default=False)


class _InvocationOutput(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each record to ``sys.stdout`` as it is at that moment (where the Lambda
    runtime, the sandbox or a test has pointed it), while an invocation runs. Outside
    one (the CLI runs the trigger's logic itself) it does what logging does for a logger
    without handlers: WARNING and above to stderr, the message only."""

    def emit(self, record: logging.LogRecord) -> None:
        if not _invoking.get():
            fallback = logging.lastResort
            if fallback is not None and record.levelno >= fallback.level:
                fallback.handle(record)
            return
        self.stream = sys.stdout
        super().emit(record)


logger: Final = Logger(service=SERVICE, logger_handler=_InvocationOutput(sys.stdout))


@contextmanager
def invocation(**ids: str | None) -> Iterator[None]:
    """One invocation's log context: ``ids`` (those known) on every line, none after."""
    logger.thread_safe_clear_keys()
    correlate(**ids)
    invoking = _invoking.set(True)
    try:
        yield
    finally:
        _invoking.reset(invoking)
        logger.thread_safe_clear_keys()


def event_ids(event: Mapping[str, Any], **detail_fields: str) -> dict[str, str | None]:
    """An EventBridge event's id (as ``event_id``) and the ``detail`` fields named by
    ``detail_fields`` (log key = field), read leniently: refusing a malformed event, with
    a message that names the field, is the logic's job."""
    detail = event.get("detail")
    fields = detail if isinstance(detail, Mapping) else {}
    ids = {KEY_EVENT_ID: _text(event.get("id"))}
    ids.update({key: _text(fields.get(name)) for key, name in detail_fields.items()})
    return ids


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def correlate(**ids: str | None) -> None:
    """Add correlation ids learnt during the invocation (None values are skipped)."""
    known = {key: value for key, value in ids.items() if value}
    if known:
        logger.thread_safe_append_keys(**known)


@dataclass(frozen=True)
class Measurement:
    name: str
    unit: Unit
    value: float


def publish_metrics(group: str, stage: str, measurements: Sequence[Measurement]) -> None:
    """Emit ``measurements`` for ``group`` and ``stage`` as one EMF line on stdout."""
    if not measurements:
        return
    emf = AmazonCloudWatchEMFProvider(namespace=contract.METRICS_NAMESPACE)
    emf.add_dimension(name=contract.METRIC_DIMENSION_GROUP, value=group)
    emf.add_dimension(name=contract.METRIC_DIMENSION_STAGE, value=stage)
    for measurement in measurements:
        emf.add_metric(name=measurement.name, unit=measurement.unit, value=measurement.value)
    emf.flush_metrics()
