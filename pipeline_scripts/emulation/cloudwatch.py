"""CloudWatch metric alarms on the virtual clock: how they start and how they are evaluated.

moto stores alarms but evaluates none: a new alarm is ``OK`` at once, and a state set
with ``SetAlarmState`` stays until someone sets another. AWS does neither (see
``docs/aws-behaviour.md``, CloudWatch):

- a new (or re-created) alarm starts in ``INSUFFICIENT_DATA`` until its first
  evaluation, one ``Period`` later;
- ``SetAlarmState`` is for tests and drills: the alarm returns to the state its metrics
  say at its next evaluation. The sandbox takes that to be one ``Period`` after the call
  (AWS says "quickly, often within seconds"; a drill is then visible to a poller for one
  period and can never leave an alarm stuck in ALARM).

What the metrics say comes from the caller (the SageMaker emulation, which drives the
endpoint metrics from the scenario): ``actual_state(alarm)``. The emulation's own state
changes are made on moto's backend directly and are not "by hand".

Calls through the API reach ``created`` and ``set_by_hand`` by ``ServiceRoutes`` hooks;
``evaluate`` runs whenever the emulation ticks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends

from shared import contract
from shared.clock import Clock

#: What an alarm's metrics say now: OK, ALARM or INSUFFICIENT_DATA.
ActualState = Callable[[Any], str]

INSUFFICIENT_DATA = contract.ALARM_STATE_INSUFFICIENT_DATA
DEFAULT_PERIOD_SECONDS = 60


class EmulatedAlarms:
    """Start states and re-evaluation of the metric alarms of one account and region."""

    def __init__(
        self, clock: Clock, actual_state: ActualState, *, account_id: str, region: str
    ) -> None:
        self._clock = clock
        self._actual_state = actual_state
        self.account_id = account_id
        self.region = region
        #: Alarm name -> when its next evaluation is due.
        self._due: dict[str, datetime] = {}

    # --- API hooks ------------------------------------------------------------------

    def created(self, params: Mapping[str, Any]) -> None:
        """After PutMetricAlarm: the alarm starts INSUFFICIENT_DATA until evaluated."""
        name = str(params.get("AlarmName", ""))
        alarm = self._backend().alarms.get(name)
        if alarm is None:
            return
        self.set_state(
            name, INSUFFICIENT_DATA, "Unchecked: Initial alarm creation (emulated)", self.now()
        )
        self._due[name] = self.now() + _period(alarm)

    def set_by_hand(self, params: Mapping[str, Any]) -> None:
        """After SetAlarmState: keep the state, stamped on the virtual clock, until the
        alarm's next evaluation."""
        name = str(params.get("AlarmName", ""))
        alarm = self._backend().alarms.get(name)
        if alarm is None:
            return
        alarm.state_updated_timestamp = self.now()
        self._due[name] = self.now() + _period(alarm)

    # --- evaluation -----------------------------------------------------------------

    def evaluate(self) -> None:
        """Evaluate every alarm whose evaluation is due: it takes its metrics' state."""
        now = self.now()
        alarms = self._backend().alarms
        for name, due in list(self._due.items()):
            if due > now:
                continue
            del self._due[name]
            alarm = alarms.get(name)
            if alarm is None:
                continue
            state = self._actual_state(alarm)
            if state != alarm.state_value:
                self.set_state(name, state, _reason(state), due)

    def pending(self, name: str) -> datetime | None:
        """When the alarm's next evaluation is due, if one is."""
        return self._due.get(name)

    def set_state(self, name: str, state: str, reason: str, at: datetime) -> None:
        """Change an alarm's state as its metrics do (not by hand), stamped ``at``."""
        backend = self._backend()
        backend.set_alarm_state(name, reason, json.dumps({"emulated": True}), state)
        backend.alarms[name].state_updated_timestamp = at

    def now(self) -> datetime:
        return self._clock.now()

    def _backend(self) -> Any:
        return cloudwatch_backends[self.account_id][self.region]


def _period(alarm: Any) -> timedelta:
    return timedelta(seconds=int(alarm.period or DEFAULT_PERIOD_SECONDS))


def _reason(state: str) -> str:
    if state == contract.ALARM_STATE_OK:
        return "Threshold Crossed: datapoints within the threshold (emulated evaluation)"
    if state == contract.ALARM_STATE_ALARM:
        return "Threshold Crossed: datapoints breach the threshold (emulated evaluation)"
    return "Insufficient Data: no datapoints to evaluate (emulated evaluation)"
