"""CodePipeline pipeline, stage and action state-change events as one typed value.

The shapes are documented in ``pipeline_scripts/emulation/pipeline_events.py`` (which
builds them for tests and the sandbox). Only what the recorder needs is kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from shared import contract
from shared.events import event_id_problem

Kind = Literal["pipeline", "stage", "action"]

_KINDS: Final[dict[str, Kind]] = {
    contract.PIPELINE_EXECUTION_DETAIL_TYPE: "pipeline",
    contract.STAGE_EXECUTION_DETAIL_TYPE: "stage",
    contract.ACTION_EXECUTION_DETAIL_TYPE: "action",
}


class MalformedPipelineEvent(ValueError):
    """The event is not a CodePipeline state change, or a field has the wrong shape."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"event.{field_name}: {problem}")
        self.field_name = field_name


@dataclass(frozen=True, kw_only=True)
class PipelineStateChange:
    event_id: str
    kind: Kind
    at: datetime
    pipeline: str
    execution_id: str
    state: str
    start_time: datetime | None = None
    stage: str | None = None
    action: str | None = None
    #: The action's category (Source, Invoke, Approval, ...), for action events.
    category: str | None = None
    #: From ``execution-trigger``, for pipeline events.
    trigger_type: str | None = None
    trigger_detail: str | None = None
    #: From ``execution-result``: the action provider's (or the pipeline's) summary.
    summary: str | None = None
    error_code: str | None = None


#: CodePipeline's own shapes (botocore's model): what the recorder stores or passes on to
#: GetPipelineExecution / ListActionExecutions must fit them.
_EXECUTION_ID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NAME: Final = re.compile(r"[A-Za-z0-9.@\-_]{1,100}")
_STATE: Final = re.compile(r"[A-Z_]{1,32}")


def _string(mapping: Mapping[str, Any], name: str, path: str) -> str:
    value = mapping.get(name)
    if not isinstance(value, str) or not value:
        shown = repr(value)[:200]
        raise MalformedPipelineEvent(f"{path}{name}", f"expected a non-empty string, got {shown}")
    return value


def _matching(mapping: Mapping[str, Any], name: str, path: str, shape: re.Pattern[str]) -> str:
    value = _string(mapping, name, path)
    if shape.fullmatch(value) is None:
        raise MalformedPipelineEvent(
            f"{path}{name}", f"{value[:120]!r} does not match {shape.pattern}"
        )
    return value


def _event_id(event: Mapping[str, Any]) -> str:
    value = _string(event, "id", "")
    problem = event_id_problem(value)
    if problem is not None:
        raise MalformedPipelineEvent("id", problem)
    return value


def _optional(mapping: Mapping[str, Any], name: str) -> str | None:
    value = mapping.get(name)
    return value if isinstance(value, str) and value else None


def _time(text: str, path: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        shown = repr(text)[:120]
        raise MalformedPipelineEvent(path, f"expected an ISO 8601 time, got {shown}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_pipeline_event(event: object) -> PipelineStateChange:
    """Parse one EventBridge event; ``MalformedPipelineEvent`` names the first bad field."""
    if not isinstance(event, Mapping):
        raise MalformedPipelineEvent("", f"expected an object, got {type(event).__name__}")
    if event.get("source") != contract.PIPELINE_EVENT_SOURCE:
        raise MalformedPipelineEvent(
            "source", f"expected {contract.PIPELINE_EVENT_SOURCE}, got {event.get('source')!r}"
        )
    detail_type = event.get("detail-type")
    kind = _KINDS.get(detail_type) if isinstance(detail_type, str) else None
    if kind is None:
        raise MalformedPipelineEvent(
            "detail-type", f"expected one of {', '.join(_KINDS)}, got {detail_type!r}"
        )
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise MalformedPipelineEvent("detail", "expected an object")
    start = _optional(detail, "start-time")
    trigger = detail.get("execution-trigger")
    result = detail.get("execution-result")
    action_type = detail.get("type")
    return PipelineStateChange(
        event_id=_event_id(event),
        kind=kind,
        at=_time(_string(event, "time", ""), "time"),
        pipeline=_matching(detail, "pipeline", "detail.", _NAME),
        execution_id=_matching(detail, "execution-id", "detail.", _EXECUTION_ID),
        state=_matching(detail, "state", "detail.", _STATE),
        start_time=None if start is None else _time(start, "detail.start-time"),
        stage=_matching(detail, "stage", "detail.", _NAME) if kind != "pipeline" else None,
        action=_matching(detail, "action", "detail.", _NAME) if kind == "action" else None,
        category=_optional(action_type, "category") if isinstance(action_type, Mapping) else None,
        trigger_type=_optional(trigger, "trigger-type") if isinstance(trigger, Mapping) else None,
        trigger_detail=(
            _optional(trigger, "trigger-detail") if isinstance(trigger, Mapping) else None
        ),
        summary=(
            _optional(result, "external-execution-summary") if isinstance(result, Mapping) else None
        ),
        error_code=_optional(result, "error-code") if isinstance(result, Mapping) else None,
    )


def group_of_pipeline_event(event: object) -> str:
    """The group whose pipeline sent the event (``detail.pipeline``, ``greenlight-<group>``):
    which group's settings the shared recorder records it with."""
    detail = event.get("detail") if isinstance(event, Mapping) else None
    pipeline = detail.get("pipeline") if isinstance(detail, Mapping) else None
    group = contract.group_of_pipeline(pipeline) if isinstance(pipeline, str) else None
    if group is None:
        raise MalformedPipelineEvent(
            "detail.pipeline", f"expected a Greenlight pipeline name, got {pipeline!r}"
        )
    return group
