"""Newest approval wins (DESIGN rule 4), by construction: same-instant approvals, stale
approvals re-emitted later, and approvals handled at the same moment on real threads
against one ledger, with the interleaving forced and free-running."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest
from concurrent_triggers import (
    BarrierBeforeFirstClaim,
    LockedPipeline,
    atomic_moto_dynamodb,
    live_version,
    new_ledger,
    run_concurrently,
    trigger_of,
)
from moto import mock_aws
from trigger_fixtures import GROUP, TriggerWorld

from pipeline_scripts.emulation.registry import RegistryEmulation
from shared import ledger

pytestmark = pytest.mark.integration

ROUNDS = 100
#: What an older approval handled alongside a newer one may come to: skipped as stale,
#: or started before the newer one was claimed (the newer execution then supersedes it).
OLDER_OUTCOMES = ([ledger.OUTCOME_SKIPPED_STALE], [ledger.OUTCOME_STARTED])


@pytest.fixture
def world() -> Iterator[TriggerWorld]:
    """The trigger's world, with SageMaker stamping times from the world's clock."""
    with mock_aws(), atomic_moto_dynamodb():
        world = TriggerWorld()
        registry = RegistryEmulation(clock=world.clock).install()
        try:
            yield world
        finally:
            registry.uninstall()


def _approve_in_order(world: TriggerWorld, count: int, *, apart: float = 1.0) -> list[str]:
    """Register ``count`` versions and approve them oldest first, ``apart`` seconds apart."""
    arns = [world.register() for _ in range(count)]
    for arn in arns:
        world.clock.advance(apart)
        world.approve(arn)
    return arns


def _outcomes_by_arn(world: TriggerWorld, event_ids: set[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for event_id in sorted(event_ids):
        outcome = world.trigger.ledger.get_outcome(GROUP, event_id)
        assert outcome is not None, event_id
        assert outcome.model_package_arn is not None, event_id
        found.setdefault(outcome.model_package_arn, []).append(outcome.outcome)
    return found


# --- one thread -------------------------------------------------------------------------


def test_approvals_at_the_same_instant_delivered_newest_first_leave_the_newest_live(
    world: TriggerWorld,
) -> None:
    # GIVEN three versions approved at the same instant
    arns = _approve_in_order(world, 3, apart=0)
    events = [world.event(arn) for arn in arns]

    # WHEN their events arrive newest first
    outcomes = [world.deliver(event) for event in reversed(events)]

    # THEN the newest (highest version) started, the others were stale, and it is live
    assert [o.outcome for o in outcomes] == [
        ledger.OUTCOME_STARTED,
        ledger.OUTCOME_SKIPPED_STALE,
        ledger.OUTCOME_SKIPPED_STALE,
    ]
    assert len(world.executions()) == 1
    assert live_version(world) == arns[-1]


def test_a_stale_approval_re_emitted_after_a_metadata_edit_an_hour_later_starts_nothing(
    world: TriggerWorld,
) -> None:
    # GIVEN version 1 approved before version 2, and version 1 skipped as stale
    older, newer = _approve_in_order(world, 2)
    late = world.event(older)
    assert world.deliver(world.event(newer)).outcome == ledger.OUTCOME_STARTED
    assert world.deliver(late).outcome == ledger.OUTCOME_SKIPPED_STALE

    # WHEN version 1's metadata is edited an hour later and SageMaker re-emits its event
    world.clock.advance(3600)
    world.sagemaker.update_model_package(
        ModelPackageArn=older, CustomerMetadataProperties={"owner": "pricing-team"}
    )
    outcome = world.deliver(world.event(older))

    # THEN it is a duplicate of the stale skip: nothing starts, version 2 stays live
    assert outcome.outcome == ledger.OUTCOME_SKIPPED_DUPLICATE
    assert len(world.executions()) == 1
    assert live_version(world) == newer


# --- real threads, forced interleavings --------------------------------------------------


def test_two_approvals_that_both_read_the_ledger_before_either_claims_leave_the_newest_live(
    world: TriggerWorld,
) -> None:
    pipeline = LockedPipeline(world.codepipeline)
    triggers = [trigger_of(world, pipeline) for _ in range(2)]
    barrier = BarrierBeforeFirstClaim(triggers)
    for round_number in range(ROUNDS):
        # GIVEN two versions approved one after the other, and two triggers that both
        # read one (new) ledger before either claims
        new_ledger(world, triggers, round_number)
        older, newer = _approve_in_order(world, 2)
        events = [world.event(older), world.event(newer)]
        barrier.arm()

        # WHEN both events are handled at the same moment
        run_concurrently(
            [lambda t=t, e=e: t.handle(e) for t, e in zip(triggers, events, strict=True)]
        )

        # THEN the newer one started once, the older one was stale (or started first and
        # was overtaken), and the newer one is live
        outcomes = _outcomes_by_arn(world, {e["id"] for e in events})
        assert outcomes[newer] == [ledger.OUTCOME_STARTED], round_number
        assert outcomes[older] in OLDER_OUTCOMES, round_number
        assert live_version(world) == newer, round_number


def test_an_older_approval_whose_start_lands_after_the_newer_one_does_not_go_live(
    world: TriggerWorld,
) -> None:
    # GIVEN the older version claims first, and its start is delayed until the newer
    # version has been claimed and started
    older, newer = _approve_in_order(world, 2)
    older_claimed = threading.Event()
    newer_started = threading.Event()

    def before_start(arn: str) -> None:
        if arn == older:
            older_claimed.set()
            assert newer_started.wait(timeout=10)

    pipeline = LockedPipeline(world.codepipeline, before_start=before_start)
    first, second = trigger_of(world, pipeline), trigger_of(world, pipeline)

    def newer_delivery() -> ledger.Outcome:
        assert older_claimed.wait(timeout=10)
        outcome = second.handle(world.event(newer))
        newer_started.set()
        return outcome

    # WHEN both are handled on their own threads
    older_outcome, newer_outcome = run_concurrently(
        [lambda: first.handle(world.event(older)), newer_delivery]
    )

    # THEN the newer version started and is live; the older one's execution was stopped
    # before it could run, and its outcome says it lost to the newer version
    assert newer_outcome.outcome == ledger.OUTCOME_STARTED
    assert older_outcome.outcome == ledger.OUTCOME_SKIPPED_STALE
    assert "version 2" in older_outcome.reason
    assert live_version(world) == newer


# --- real threads, free-running ----------------------------------------------------------


def test_approvals_delivered_concurrently_free_running_leave_the_newest_live(
    world: TriggerWorld,
) -> None:
    pipeline = LockedPipeline(world.codepipeline)
    triggers = [trigger_of(world, pipeline) for _ in range(4)]
    shuffle = random.Random(9)
    for round_number in range(ROUNDS):
        # GIVEN three versions approved one after the other (some rounds at one instant),
        # each event delivered once and the newest one twice, in any order, to triggers
        # sharing one (new) ledger
        new_ledger(world, triggers, round_number)
        arns = _approve_in_order(world, 3, apart=shuffle.choice((0, 0.001, 1)))
        events = [world.event(arn) for arn in arns]
        deliveries = [*events, events[-1]]
        shuffle.shuffle(deliveries)

        # WHEN every delivery is handled at once on its own thread
        run_concurrently(
            [lambda t=t, e=e: t.handle(e) for t, e in zip(triggers, deliveries, strict=True)]
        )

        # THEN the newest version started exactly once and is live; each older one has
        # one outcome: stale, or started first and overtaken
        outcomes = _outcomes_by_arn(world, {e["id"] for e in events})
        assert outcomes[arns[-1]] == [ledger.OUTCOME_STARTED], round_number
        for arn in arns[:-1]:
            assert outcomes[arn] in OLDER_OUTCOMES, round_number
        assert live_version(world) == arns[-1], round_number
