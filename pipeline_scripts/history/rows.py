"""One row of the audit history: an approval, the execution it started, a stage's outcome.

``greenlight history`` joins the registry (who registered, who approved and why), the
ledger (what happened) and CodePipeline (execution variables and trigger) into these
rows; the table, JSON, CSV and HTML renderers only read them.

A decision that started no execution (a gate refusal, a skipped duplicate) is a row too,
with ``execution_id`` and ``stage`` left empty, so that nothing an auditor asks about is
missing from the history.

``approver`` and ``approval_description`` always speak of the version's approval. An
execution an operator asked for (``greenlight redeploy``, ``greenlight rollback``) says
who did and why in ``operator`` and ``operator_reason``, empty on every other row.
``live_rejected`` flags the row that shows what is live in its stage now when the
registry says that version is Rejected now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args

Trigger = Literal[
    "approval",
    "redeploy",
    "rejection-rollback",
    "manual-rollback",
    "console-rollback",
    "automated-rollback",
]
Result = Literal[
    "deployed",
    "failed",
    "rolled-back",
    "superseded",
    "stopped",
    "in-progress",
    "skipped",
    "gate-rejected",
]
TRIGGERS: Final[tuple[str, ...]] = get_args(Trigger)
RESULTS: Final[tuple[str, ...]] = get_args(Result)
#: Triggers of executions that put an earlier version back.
ROLLBACK_TRIGGERS: Final = frozenset(
    {"rejection-rollback", "manual-rollback", "console-rollback", "automated-rollback"}
)
#: ``started_by`` of a rollback that CodePipeline started by itself (``OnFailure: ROLLBACK``).
CODEPIPELINE: Final = "CodePipeline"


@dataclass(frozen=True)
class RollbackTarget:
    """What a rollback put back: a version, the execution it came from, and the version
    it took out, when known."""

    version: int
    execution_id: str | None = None
    replacing: int | None = None

    def describe(self, *, short: bool = False) -> str:
        """``v1 (execution 3b1f…) replacing v2``; ``short`` leaves the execution out."""
        text = f"v{self.version}"
        if self.execution_id and not short:
            text += f" (execution {self.execution_id})"
        if self.replacing:
            text += f" replacing v{self.replacing}"
        return text


@dataclass(frozen=True)
class HistoryRow:
    group: str
    version: int
    model_package_arn: str
    #: ``CreatedBy`` of the package (user profile name or IAM identity), if known.
    registrant: str | None
    #: ``LastModifiedBy`` when the approval was made, if known.
    approver: str | None
    approval_description: str | None
    approval_time: datetime | None
    #: None when the decision started no execution (gate-rejected, skipped).
    execution_id: str | None
    trigger: Trigger
    #: The deployment stage (e.g. ``staging``); None when no stage was reached.
    stage: str | None
    result: Result
    #: Why: the failing action and its message, the alarm, the gate, the newer version.
    reason: str | None
    #: For a rolled-back row, or a rollback's own row: what was put back.
    rollback_target: RollbackTarget | None
    started: datetime | None
    ended: datetime | None
    #: Who answered the manual approval in front of this stage (CodePipeline's
    #: ``updatedBy``, an identity ARN); None for a stage without one.
    stage_approver: str | None = None
    #: For a rollback's rows: who started it, the RollbackStage (or StartPipelineExecution)
    #: caller's identity ARN, or ``CodePipeline`` for ``OnFailure: ROLLBACK``.
    started_by: str | None = None
    #: Who ran the operator action that started the execution (an IAM ARN), and why.
    operator: str | None = None
    operator_reason: str | None = None
    #: This row's version is live in its stage now, and Rejected in the registry now.
    live_rejected: bool = False
    #: Where the row's stage runs, when known (a stage in another account names it).
    account: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValueError(
                f"HistoryRow.version must be a whole number >= 1, got {self.version!r}"
            )
        if self.trigger not in TRIGGERS:
            raise ValueError(
                f"HistoryRow.trigger must be one of {', '.join(TRIGGERS)}, got {self.trigger!r}"
            )
        if self.result not in RESULTS:
            raise ValueError(
                f"HistoryRow.result must be one of {', '.join(RESULTS)}, got {self.result!r}"
            )
        if self.started and self.ended and self.ended < self.started:
            raise ValueError(
                f"HistoryRow for {self.group} v{self.version} ends ({self.ended.isoformat()}) "
                f"before it starts ({self.started.isoformat()})"
            )


def short_identity(who: str | None) -> str:
    """An IAM ARN's last path element (the user, role session or profile name); any
    other identity as it is."""
    if not who:
        return "-"
    if who.startswith("arn:"):
        resource = who.split(":", 5)[-1]
        return resource.rsplit("/", 1)[-1] or who
    return who
