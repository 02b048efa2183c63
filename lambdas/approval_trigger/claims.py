"""Claiming an approval: one approval, one deployment, and the newest approval wins.

DESIGN rules 3 and 4, decided against the ledger only (``shared.ledger``):

- An approval of a version whose latest act is an approval, a redeploy, a gate refusal
  or a stale skip is a duplicate.
- An approval is ranked by when the version was approved, then by version. The
  approval time is recorded the first time the trigger sees the approval (the earlier
  of the event's and the registry's ``LastModifiedTime``), so a later metadata edit,
  which moves ``LastModifiedTime``, cannot make an old approval look new.
- An approval ranked below the group's high-water mark is stale; the skip is an act, so
  every later re-emit of that approval is a duplicate.
- A claim raises the mark in the same transaction, on the condition that the mark is
  still below it: of two approvals handled at the same moment, the older one either
  fails its transaction and, reading again, is stale, or claimed first and is overtaken
  (the caller stops its execution when the mark moved past it before it started).
- A claim whose start failed is released (an act of its own); the next claim of the
  same approval reuses its ``clientRequestToken``, so a start that took effect after
  all is found again, never repeated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from shared.clock import Clock
from shared.ledger import (
    ACT_APPROVAL,
    ACT_GATE_REFUSED,
    ACT_REDEPLOY,
    ACT_REJECTION,
    ACT_RELEASED,
    ACT_STALE,
    APPROVAL_ACTS,
    Act,
    GroupApproval,
    Ledger,
    NewestApproval,
    approval_rank,
)

CLAIM_ATTEMPTS: Final = 5


class ClaimContended(RuntimeError):
    """Concurrent handlers kept claiming the same act; the event is retried."""

    def __init__(self, arn: str) -> None:
        super().__init__(f"could not claim the next act for {arn} after {CLAIM_ATTEMPTS} tries")


def request_token(arn: str, sequence: int) -> str:
    """The StartPipelineExecution clientRequestToken of the ``sequence``-th act on ``arn``:
    the same for every retry of that act, different for the next one."""
    digest = hashlib.sha256(arn.encode()).hexdigest()[:40]
    version = arn.rsplit("/", 1)[-1]
    return f"greenlight-{version}-{sequence}-{digest}"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """What claiming an approval came to: an act to carry out, or a skip."""

    #: The act claimed (approval, redeploy or gate-refused); a ``stale`` act when the
    #: approval lost to a newer one; None for a duplicate.
    act: Act | None
    #: When the version was approved (not looked up for a duplicate).
    approved_at: datetime | None
    #: For a duplicate: the act that already covers this approval.
    previous: Act | None = None
    #: For a stale skip: the newer approval it lost to.
    newer: NewestApproval | None = None


@dataclass(frozen=True, kw_only=True)
class Approval:
    """One approval to claim."""

    arn: str
    version: int
    event_id: str
    #: When the package says it was last modified (DescribeModelPackage).
    described_at: datetime
    #: The event's own LastModifiedTime, when the event said Approved.
    event_approved_at: datetime | None = None
    #: A redeploy: no duplicate or stale guard, approved "now".
    forced: bool = False

    @classmethod
    def of(
        cls,
        package: Mapping[str, Any],
        *,
        event_id: str,
        event_approved_at: datetime | None,
        forced: bool,
    ) -> Approval:
        return cls(
            arn=str(package["ModelPackageArn"]),
            version=int(package["ModelPackageVersion"]),
            event_id=event_id,
            described_at=package.get("LastModifiedTime") or package["CreationTime"],
            event_approved_at=event_approved_at,
            forced=forced,
        )


class Claims:
    """Claims approvals of one group's versions in the ledger."""

    def __init__(self, ledger: Ledger, *, group: str, clock: Clock) -> None:
        self.ledger = ledger
        self.group = group
        self.clock = clock

    def claim(self, approval: Approval, *, refusal: str | None) -> Claim:
        """Claim ``approval``: a gate-refused act when ``refusal`` says why."""
        for _ in range(CLAIM_ATTEMPTS):
            acts = self.ledger.acts(approval.arn)
            latest = acts[-1] if acts else None
            retried = latest is not None and latest.event_id == approval.event_id
            if latest is not None and retried and latest.kind != ACT_RELEASED:
                return self._resume(approval, acts, latest)  # a retry of this very event
            if not approval.forced and latest is not None and latest.kind in APPROVAL_ACTS:
                return Claim(act=None, approved_at=None, previous=latest)
            claim = self._try(approval, acts, refusal)
            if claim is not None:
                return claim
        raise ClaimContended(approval.arn)

    def release(self, act: Act) -> Act:
        """Give back ``act``, whose start failed: the next claim may start it again."""
        released = Act(
            arn=act.arn,
            sequence=act.sequence + 1,
            kind=ACT_RELEASED,
            event_id=act.event_id,
            recorded_at=self.clock.now(),
            client_request_token=act.client_request_token,
        )
        if not self.ledger.claim(released):
            raise ClaimContended(act.arn)
        return released

    def newer_than(self, approval: Approval, approved_at: datetime) -> NewestApproval | None:
        """The group's newest claimed approval when it outranks ``approval``."""
        return _newer(self.ledger.newest_approval(self.group), approval, approved_at)

    # --- deciding ---------------------------------------------------------------------

    def _try(self, approval: Approval, acts: list[Act], refusal: str | None) -> Claim | None:
        latest = acts[-1] if acts else None
        sequence = 1 if latest is None else latest.sequence + 1
        approved_at = self.clock.now() if approval.forced else self._approved_at(approval, acts)
        current = self.ledger.newest_approval(self.group)
        newer = None if approval.forced else _newer(current, approval, approved_at)
        if newer is not None:
            stale = self._act(approval, sequence, ACT_STALE, None)
            if self.ledger.claim(stale):
                return Claim(act=stale, approved_at=approved_at, newer=newer)
            return None
        kind = ACT_GATE_REFUSED if refusal else (ACT_REDEPLOY if approval.forced else ACT_APPROVAL)
        token = latest.client_request_token if latest and latest.kind == ACT_RELEASED else None
        act = self._act(approval, sequence, kind, token)
        if refusal:
            return Claim(act=act, approved_at=approved_at) if self.ledger.claim(act) else None
        started = GroupApproval(
            group=self.group,
            approved_at=approved_at,
            arn=approval.arn,
            version=approval.version,
            event_id=approval.event_id,
        )
        mark = NewestApproval.of(started)
        # The mark only rises: a redeploy, or an approval claimed again after a release,
        # that does not outrank it leaves it be.
        raised = mark if current is None or current.rank < mark.rank else None
        if self.ledger.claim(act, approval=started, newest=raised):
            return Claim(act=act, approved_at=approved_at)
        return None

    def _resume(self, approval: Approval, acts: list[Act], latest: Act) -> Claim:
        approved_at = self.clock.now() if approval.forced else self._approved_at(approval, acts)
        if latest.kind == ACT_STALE:
            return Claim(
                act=latest, approved_at=approved_at, newer=self.newer_than(approval, approved_at)
            )
        return Claim(act=latest, approved_at=approved_at)

    def _act(self, approval: Approval, sequence: int, kind: str, token: str | None) -> Act:
        return Act(
            arn=approval.arn,
            sequence=sequence,
            kind=kind,
            event_id=approval.event_id,
            recorded_at=self.clock.now(),
            client_request_token=token or request_token(approval.arn, sequence),
        )

    def _approved_at(self, approval: Approval, acts: list[Act]) -> datetime:
        """When the current approval of the version happened, recorded at first sight."""
        rejections = [act for act in acts if act.kind == ACT_REJECTION]
        after = rejections[-1] if rejections else None
        seen = approval.described_at
        event_time = approval.event_approved_at
        if event_time is not None and (after is None or event_time > after.recorded_at):
            seen = min(seen, event_time)
        return self.ledger.record_approval_time(
            approval.arn,
            after_act=0 if after is None else after.sequence,
            approved_at=seen,
            event_id=approval.event_id,
        )


def _newer(
    newest: NewestApproval | None, approval: Approval, approved_at: datetime
) -> NewestApproval | None:
    if newest is None or newest.arn == approval.arn:
        return None
    return newest if newest.rank > approval_rank(approved_at, approval.version) else None
