"""Where a deployment is between Deploy's invocations, and how Deploy says it is not done.

A continuation token carries a :class:`Progress`: the phase (*preparing*: waiting for
the endpoint to be ready for a change; *starting*: a create or update was asked for and
whether it took effect is not known yet; *deploying*: it took effect, the endpoint is
settling), the names asked for and when.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from deploy.resources import DeployError
from shared.clock import Clock
from shared.jobs import InProgress, describe_error
from shared.observability import logger
from shared.parameters import DeployParameters

PREPARING: Final = "preparing"
STARTING: Final = "starting"
DEPLOYING: Final = "deploying"
Phase = Literal["preparing", "starting", "deploying"]


@dataclass(frozen=True, kw_only=True)
class Progress:
    """What a continuation token carries between invocations."""

    started: datetime
    phase: Phase = DEPLOYING
    requested_config: str = ""
    previous_config: str | None = None
    model_name: str = ""
    #: When the endpoint was last asked to create or update (the *starting* phase).
    attempted: datetime | None = None

    def to_token(self) -> str:
        return json.dumps(
            {
                "phase": self.phase,
                "requested": self.requested_config,
                "previous": self.previous_config,
                "model": self.model_name,
                "started": self.started.isoformat(),
                "attempted": self.attempted.isoformat() if self.attempted else None,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_token(cls, token: str) -> Progress:
        try:
            raw = json.loads(token)
            phase = raw.get("phase", DEPLOYING)
            if phase not in (PREPARING, STARTING, DEPLOYING):
                raise ValueError(f"unknown phase {phase!r}")
            attempted = raw.get("attempted")
            return cls(
                phase=phase,
                requested_config=str(raw["requested"]),
                previous_config=raw["previous"],
                model_name=str(raw["model"]),
                started=datetime.fromisoformat(raw["started"]),
                attempted=datetime.fromisoformat(attempted) if attempted else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise DeployError(f"continuation token is not a Deploy token ({error})") from None


def wait_out(
    params: DeployParameters, progress: Progress, clock: Clock, error: BaseException
) -> InProgress:
    """Answer in progress with ``progress`` unchanged: the next invocation tries again."""
    waited = int((clock.now() - progress.started).total_seconds())
    logger.warning("%s: transient %s; trying again", params.endpoint_name, describe_error(error))
    return InProgress(
        continuation_token=progress.to_token(),
        summary=(
            f"endpoint {params.endpoint_name}: transient {describe_error(error)}; "
            f"trying again ({waited} s so far)"
        ),
        external_execution_id=progress.requested_config or None,
    )


def in_progress(
    params: DeployParameters, progress: Progress, clock: Clock, status: str
) -> InProgress:
    waited = int((clock.now() - progress.started).total_seconds())
    return InProgress(
        continuation_token=progress.to_token(),
        summary=(
            f"{params.endpoint_name} {status} towards {progress.requested_config} "
            f"({waited} s so far)"
        ),
        external_execution_id=progress.requested_config,
    )


def preparing(params: DeployParameters, started: datetime, clock: Clock, doing: str) -> InProgress:
    waited = int((clock.now() - started).total_seconds())
    return InProgress(
        continuation_token=Progress(phase=PREPARING, started=started).to_token(),
        summary=(
            f"endpoint {params.endpoint_name}: {doing} before deploying "
            f"{params.model_package_arn} ({waited} s so far)"
        ),
    )
