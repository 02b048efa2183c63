"""Several approval triggers on real threads against one ledger.

Each trigger has its own boto3 clients (as each Lambda execution environment does) and
they share one moto DynamoDB table, one registry and one emulated CodePipeline.

moto's in-process DynamoDB is not safe under threads: ``transact_write_items`` copies a
table, applies the items one by one and puts the copy back when one fails, so a
concurrent write can be lost or a failed transaction half applied. DynamoDB serializes
each request on its items and applies a transaction all or nothing
(docs/aws-behaviour.md, DynamoDB). The harness gives moto that guarantee by running each
DynamoDB request (and each emulated CodePipeline call) under one lock; the interleaving
*between* requests, which is what the trigger must survive, stays free.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.dynamodb.models import DynamoDBBackend
from trigger_fixtures import REGION, TriggerWorld

from approval_trigger.logic import ApprovalTrigger
from shared import contract
from shared.ledger import Ledger

#: The moto DynamoDB requests the trigger makes (a transaction calls put_item inside).
_DYNAMODB_REQUESTS = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "query",
    "transact_write_items",
)


@contextmanager
def atomic_moto_dynamodb() -> Iterator[None]:
    """Each moto DynamoDB request runs alone, as each DynamoDB request is atomic."""
    lock = threading.RLock()
    originals = {name: getattr(DynamoDBBackend, name) for name in _DYNAMODB_REQUESTS}

    def locked(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(*args, **kwargs)

        return call

    for name, original in originals.items():
        setattr(DynamoDBBackend, name, locked(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)


class LockedPipeline:
    """The world's emulated CodePipeline, one call at a time (each API call is atomic)."""

    def __init__(self, pipeline: Any, *, before_start: Callable[[str], None] | None = None):
        self._pipeline = pipeline
        self._lock = threading.Lock()
        #: Called with the ARN being started, outside the lock, before the start.
        self.before_start = before_start

    def start_pipeline_execution(self, **kwargs: Any) -> dict[str, Any]:
        if self.before_start is not None:
            arn = next(
                v["value"]
                for v in kwargs["variables"]
                if v["name"] == contract.VAR_MODEL_PACKAGE_ARN
            )
            self.before_start(arn)
        with self._lock:
            result: dict[str, Any] = self._pipeline.start_pipeline_execution(**kwargs)
            return result

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._pipeline, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call


def trigger_of(world: TriggerWorld, pipeline: LockedPipeline) -> ApprovalTrigger:
    """A trigger like the world's, with clients of its own."""
    return ApprovalTrigger(
        world.config,
        sagemaker=boto3.client("sagemaker", region_name=REGION),
        codepipeline=pipeline,  # type: ignore[arg-type]
        sns=boto3.client("sns", region_name=REGION),
        dynamodb=boto3.client("dynamodb", region_name=REGION),
        clock=world.clock,
    )


def new_ledger(world: TriggerWorld, triggers: list[ApprovalTrigger], round_number: int) -> None:
    """Point the world's trigger and ``triggers`` at a new, empty ledger table: each round
    starts clean (moto copies a whole table on every transaction, so a table that grew
    over a hundred rounds would make them slow)."""
    table = world.create_ledger(f"greenlight-ledger-{round_number}")
    for trigger in [world.trigger, *triggers]:
        trigger.ledger.table_name = table


class BarrierBeforeFirstClaim:
    """Makes every trigger read the ledger before any of them claims: once armed, each
    trigger's first ``Ledger.claim`` waits until all of them have reached theirs."""

    def __init__(self, triggers: list[ApprovalTrigger]) -> None:
        self.barrier = threading.Barrier(len(triggers), timeout=10)
        self._waited: list[threading.Event] = []
        for trigger in triggers:
            self._install(trigger.ledger)

    def _install(self, ledger: Ledger) -> None:
        original = ledger.claim
        waited = threading.Event()
        self._waited.append(waited)

        def claim(*args: Any, **kwargs: Any) -> bool:
            if not waited.is_set():
                waited.set()
                self.barrier.wait()
            return original(*args, **kwargs)

        ledger.claim = claim  # type: ignore[method-assign]

    def arm(self) -> None:
        """Hold the next first claims again (one round)."""
        self.barrier.reset()
        for waited in self._waited:
            waited.clear()


def run_concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call on its own thread, all released at once; re-raise the first error."""
    start = threading.Barrier(len(calls), timeout=10)
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        start.wait()
        try:
            results[index] = call()
        except BaseException as error:  # handed to the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def live_version(world: TriggerWorld) -> str | None:
    """The ARN SUPERSEDED mode leaves live once the executions in progress finish: the
    pipeline engine runs them to their end, oldest first (an older one waiting where a
    newer one arrives is superseded); the newest is what serves. None when nothing is in
    progress."""
    pages = world.codepipeline.get_paginator("list_pipeline_executions").paginate(
        pipelineName=world.pipeline
    )
    newest_first = [s for page in pages for s in page["pipelineExecutionSummaries"]]
    in_progress = [s["pipelineExecutionId"] for s in newest_first if s["status"] == "InProgress"]
    for execution_id in reversed(in_progress):
        world.engine.run_to_end(execution_id)
    if not in_progress:
        return None
    return world.variables(in_progress[0])[contract.VAR_MODEL_PACKAGE_ARN]
