"""Reading a stage's CloudWatch alarms: Deploy names them after a guardrail rollback,
Bake watches them for the configured minutes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import contract

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

#: DescribeAlarms accepts at most 100 names per call.
_NAMES_PER_CALL = 100


@dataclass(frozen=True, kw_only=True)
class AlarmState:
    name: str
    state: str
    reason: str
    #: When the alarm last changed state.
    since: datetime | None = None
    #: Period x EvaluationPeriods: how long bad datapoints keep it in ALARM.
    window_seconds: int = 0

    def describe(self) -> str:
        return f"{self.name} ({self.reason})" if self.reason else self.name


class UnknownAlarms(LookupError):
    """Alarms the stage names do not exist."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(f"alarm(s) not found: {', '.join(names)}")
        self.names = tuple(names)


def alarm_states(cloudwatch: CloudWatchClient, names: Sequence[str]) -> list[AlarmState]:
    """The state of each alarm in ``names``, in that order; UnknownAlarms if any is missing."""
    found: dict[str, AlarmState] = {}
    for start in range(0, len(names), _NAMES_PER_CALL):
        batch = list(names[start : start + _NAMES_PER_CALL])
        token: str | None = None
        while True:
            page = (
                cloudwatch.describe_alarms(AlarmNames=batch, NextToken=token)
                if token
                else cloudwatch.describe_alarms(AlarmNames=batch)
            )
            for metric_alarm in page.get("MetricAlarms", []):
                window = metric_alarm.get("Period", 0) * metric_alarm.get("EvaluationPeriods", 0)
                found[metric_alarm["AlarmName"]] = _state_of(metric_alarm, window_seconds=window)
            for composite in page.get("CompositeAlarms", []):
                found[composite["AlarmName"]] = _state_of(composite)
            token = page.get("NextToken")
            if not token:
                break
    missing = [name for name in names if name not in found]
    if missing:
        raise UnknownAlarms(missing)
    return [found[name] for name in names]


def alarms_firing(cloudwatch: CloudWatchClient, names: Sequence[str]) -> list[AlarmState]:
    """The alarms of ``names`` that are in ALARM now (missing ones are ignored)."""
    if not names:
        return []
    firing: list[AlarmState] = []
    for start in range(0, len(names), _NAMES_PER_CALL):
        page = cloudwatch.describe_alarms(
            AlarmNames=list(names[start : start + _NAMES_PER_CALL]),
            StateValue=contract.ALARM_STATE_ALARM,
        )
        firing.extend(
            AlarmState(
                name=alarm["AlarmName"],
                state=alarm.get("StateValue", contract.ALARM_STATE_ALARM),
                reason=alarm.get("StateReason", ""),
            )
            for alarm in page.get("MetricAlarms", [])
            if alarm.get("StateValue") == contract.ALARM_STATE_ALARM
        )
    return firing


def _state_of(alarm: Mapping[str, Any], *, window_seconds: int = 0) -> AlarmState:
    """A metric or composite alarm's state, as DescribeAlarms lists it."""
    return AlarmState(
        name=alarm["AlarmName"],
        state=alarm.get("StateValue", contract.ALARM_STATE_INSUFFICIENT_DATA),
        reason=alarm.get("StateReason", ""),
        since=alarm.get("StateUpdatedTimestamp"),
        window_seconds=window_seconds,
    )
