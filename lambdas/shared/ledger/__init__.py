"""The ledger: Greenlight's durable, append-only record in DynamoDB.

The table has a partition key ``pk`` and a sort key ``sk`` (both strings) and nothing
else. These kinds of item live in it:

``GROUP#<group>`` / ``EVENT#<event id>``
    The one outcome of one event (or CLI request) that reached the trigger. Written once;
    only a ``failed`` outcome may be replaced, by the retry that finally handles the event.
``PACKAGE#<arn>`` / ``ACT#<sequence>``
    What the trigger acted on for one model package version, in order (``kind``): an
    ``approval`` that started a deployment, a ``redeploy``, an approval the gates
    refused (``gate-refused``), an approval skipped because a newer one of the group was
    already claimed (``stale``), a ``rejection``, and a claim given back because its
    StartPipelineExecution failed (``released``, with the token the next claim reuses).
    The latest act decides whether a new Approved event is a duplicate (DESIGN rule 3):
    after ``approval``, ``redeploy``, ``gate-refused`` or ``stale`` it is. A new act is
    claimed with a conditional write, so two concurrent deliveries cannot both claim it.
``PACKAGE#<arn>`` / ``APPROVED#<sequence of the last rejection act, 0 if none>``
    When the version was approved (``approvedAt``), as the trigger first saw it: the
    earliest of the approval event's ``LastModifiedTime`` and DescribeModelPackage's.
    Written once per approval (a re-approval after a rejection is a new one), so a later
    metadata edit, which moves ``LastModifiedTime``, does not move it.
``GROUP#<group>`` / ``NEWEST-APPROVAL``
    The group's high-water mark (:class:`NewestApproval`): the newest approval that was
    claimed, ranked by approval time and then version (``rank``). An approval is claimed
    in one TransactWriteItems with the mark, on the condition that the mark is older, so
    of two approvals handled at the same moment only the newer one can win
    (DESIGN rule 4). Only ever raised.
``GROUP#<group>`` / ``APPROVAL#<approval time>#<version>``
    Every approval that started a deployment, sorted by approval time. Ledgers written
    before the mark existed are read through the newest of these.
``GROUP#<group>`` / ``PIPELINE#<event time>#<event id>``
    What the recorder saw of the group's pipeline: one item per CodePipeline
    state-change event it acted on (:class:`PipelineRecord`), sorted by the event's time
    so that ``greenlight history --since`` is one key-range query. ``record`` says what
    the item is: ``execution-started``, ``execution-ended`` (with the final state),
    ``stage-started``, ``deployed``, ``failed`` (with the failing action and its
    message), ``rolled-back`` (the stage of a failed execution was put back: the target
    execution and version, and the failed execution and version), ``superseded``,
    ``stopped``, ``awaiting-approval``, ``approval-answered`` (a manual approval's
    answer, ``state`` SUCCEEDED or FAILED, with who gave it in ``answeredBy``) and
    ``action-failed``. Every item carries the execution id, CodePipeline's trigger type
    and detail (for a RollbackStage: who called it) and, when known, the package ARN and
    version it deployed. Written once, with a condition on the key, so a redelivered
    event changes nothing.

``GROUP#<group>`` / ``MALFORMED#<event id>``
    A CodePipeline state-change event the recorder could not use (:class:`MalformedRecord`):
    the first field it could not use and why, written once, so the event is neither
    retried nor dead-lettered and is still accounted for. An event whose own id is
    unusable is kept under a digest of its body (``malformed-…``). (The trigger keeps its
    malformed events as ``skipped-malformed`` outcomes.)

A trigger outcome also keeps who registered and who approved the version, the approval
description and the approval time, as the registry said when the trigger acted: the
history reads them from here instead of describing every package again.

A ``rollback-started`` outcome (a rejection's, or ``greenlight rollback``'s) lists the
rollback executions it started in ``rollbacks``: a list of maps, one per stage rolled
back, ``{"stage", "executionId", "targetExecutionId", "targetVersion", "targetArn"}``
(:class:`RollbackStart`; the last two when known). The history tells who started a
ROLLBACK execution from this list, never from the free-text ``reason``. Outcomes written
before the list existed have no ``rollbacks`` attribute.

An outcome of an operator's request (``greenlight rollback``, ``greenlight redeploy``)
keeps who made it, ``operator`` (the caller's ARN from STS GetCallerIdentity), and why,
``operatorReason`` (the required ``--reason``). Other outcomes have neither attribute.

The modules: :mod:`~shared.ledger.outcomes`, :mod:`~shared.ledger.acts` and
:mod:`~shared.ledger.records` hold the item kinds, :mod:`~shared.ledger.codec` how they
are keyed and stored, :mod:`~shared.ledger.table` the reads and conditional writes.
Everything public is importable from ``shared.ledger``.
"""

from shared.ledger.acts import (
    ACT_APPROVAL,
    ACT_GATE_REFUSED,
    ACT_REDEPLOY,
    ACT_REJECTION,
    ACT_RELEASED,
    ACT_STALE,
    APPROVAL_ACTS,
    NEWEST_APPROVAL_KEY,
    Act,
    GroupApproval,
    NewestApproval,
    approval_rank,
)
from shared.ledger.codec import group_key, package_key, parse_timestamp, timestamp
from shared.ledger.outcomes import (
    OUTCOME_FAILED,
    OUTCOME_GATE_REJECTED,
    OUTCOME_RECORDED,
    OUTCOME_ROLLBACK_NONE,
    OUTCOME_ROLLBACK_STARTED,
    OUTCOME_SKIPPED_DUPLICATE,
    OUTCOME_SKIPPED_INVALID,
    OUTCOME_SKIPPED_MALFORMED,
    OUTCOME_SKIPPED_MISSING,
    OUTCOME_SKIPPED_NOT_APPROVED,
    OUTCOME_SKIPPED_OTHER_GROUP,
    OUTCOME_SKIPPED_STALE,
    OUTCOME_STARTED,
    OUTCOME_STOPPED,
    OUTCOMES,
    Outcome,
    RollbackStart,
)
from shared.ledger.records import (
    PIPELINE_PREFIX,
    RECORD_ACTION_FAILED,
    RECORD_APPROVAL_ANSWERED,
    RECORD_AWAITING_APPROVAL,
    RECORD_DEPLOYED,
    RECORD_EXECUTION_ENDED,
    RECORD_EXECUTION_STARTED,
    RECORD_FAILED,
    RECORD_ROLLED_BACK,
    RECORD_STAGE_STARTED,
    RECORD_STOPPED,
    RECORD_SUPERSEDED,
    RECORDS,
    MalformedRecord,
    PipelineRecord,
)
from shared.ledger.table import Ledger

__all__ = [
    "ACT_APPROVAL",
    "ACT_GATE_REFUSED",
    "ACT_REDEPLOY",
    "ACT_REJECTION",
    "ACT_RELEASED",
    "ACT_STALE",
    "APPROVAL_ACTS",
    "NEWEST_APPROVAL_KEY",
    "OUTCOMES",
    "OUTCOME_FAILED",
    "OUTCOME_GATE_REJECTED",
    "OUTCOME_RECORDED",
    "OUTCOME_ROLLBACK_NONE",
    "OUTCOME_ROLLBACK_STARTED",
    "OUTCOME_SKIPPED_DUPLICATE",
    "OUTCOME_SKIPPED_INVALID",
    "OUTCOME_SKIPPED_MALFORMED",
    "OUTCOME_SKIPPED_MISSING",
    "OUTCOME_SKIPPED_NOT_APPROVED",
    "OUTCOME_SKIPPED_OTHER_GROUP",
    "OUTCOME_SKIPPED_STALE",
    "OUTCOME_STARTED",
    "OUTCOME_STOPPED",
    "PIPELINE_PREFIX",
    "RECORDS",
    "RECORD_ACTION_FAILED",
    "RECORD_APPROVAL_ANSWERED",
    "RECORD_AWAITING_APPROVAL",
    "RECORD_DEPLOYED",
    "RECORD_EXECUTION_ENDED",
    "RECORD_EXECUTION_STARTED",
    "RECORD_FAILED",
    "RECORD_ROLLED_BACK",
    "RECORD_STAGE_STARTED",
    "RECORD_STOPPED",
    "RECORD_SUPERSEDED",
    "Act",
    "GroupApproval",
    "Ledger",
    "MalformedRecord",
    "NewestApproval",
    "Outcome",
    "PipelineRecord",
    "RollbackStart",
    "approval_rank",
    "group_key",
    "package_key",
    "parse_timestamp",
    "timestamp",
]
