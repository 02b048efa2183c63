"""CodePipeline pipeline, stage and action state-change events as one typed value.

The shapes are documented in ``pipeline_scripts/emulation/pipeline_events.py`` (which
builds them for tests and the sandbox). Only what the recorder needs is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from shared import contract

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


def _string(mapping: Mapping[str, Any], name: str, path: str) -> str:
    value = mapping.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedPipelineEvent(f"{path}{name}", f"expected a non-empty string, got {value!r}")
    return value


def _optional(mapping: Mapping[str, Any], name: str) -> str | None:
    value = mapping.get(name)
    return value if isinstance(value, str) and value else None


def _time(text: str, path: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedPipelineEvent(path, f"expected an ISO 8601 time, got {text!r}") from None
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
        event_id=_string(event, "id", ""),
        kind=kind,
        at=_time(_string(event, "time", ""), "time"),
        pipeline=_string(detail, "pipeline", "detail."),
        execution_id=_string(detail, "execution-id", "detail."),
        state=_string(detail, "state", "detail."),
        start_time=None if start is None else _time(start, "detail.start-time"),
        stage=_string(detail, "stage", "detail.") if kind != "pipeline" else None,
        action=_string(detail, "action", "detail.") if kind == "action" else None,
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
