"""The stage alarms as the scenario's versions drive them.

A version that breaks a metric (``Behaviour``) raises the alarms on the endpoints it
serves ``alarm_delay`` after it starts taking traffic (one evaluation period), and they
return to OK once it has stopped serving for the alarm's evaluation window
(``alarm_recovery`` when that is unknown). ``alarm_state`` is what an alarm's metrics
say now, for ``EmulatedAlarms``' evaluation."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends

from pipeline_scripts.emulation.cloudwatch import INSUFFICIENT_DATA
from pipeline_scripts.emulation.endpoint_model import Behaviour, EndpointState
from shared import contract

#: Notes what the emulation did to an endpoint: (endpoint, what, detail, at).
Record = Callable[[str, str, str, datetime], None]


class ScenarioMetrics:
    """The alarms the scenario's versions raise, and when each was raised."""

    def __init__(
        self,
        *,
        account_id: str,
        region: str,
        alarm_delay: timedelta,
        alarm_recovery: timedelta,
        behaviour: Callable[[str | None], Behaviour],
        endpoint_status: Callable[[str], str | None],
        record: Record,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.alarm_delay = alarm_delay
        self.alarm_recovery = alarm_recovery
        self._behaviour = behaviour
        self._endpoint_status = endpoint_status
        self._record = record
        #: (endpoint, alarm) -> the package that raised it, and when.
        self.raised: dict[tuple[str, str], tuple[str, datetime]] = {}

    def _cloudwatch(self) -> Any:
        return cloudwatch_backends[self.account_id][self.region]

    def update(self, now: datetime, endpoints: Mapping[str, EndpointState]) -> None:
        """Raise and clear the alarms as the versions serving ``endpoints`` drive them."""
        cloudwatch = self._cloudwatch()
        for name, state in endpoints.items():
            for package, serving in state.serving.items():
                behaviour = self._behaviour(package)
                if behaviour.healthy_on(name):
                    continue
                trips_at = serving.since + self.alarm_delay
                active = trips_at <= now and (serving.until is None or trips_at < serving.until)
                for alarm_name in self._alarms_for(name, behaviour, state):
                    key = (name, alarm_name)
                    if active and key not in self.raised:
                        cloudwatch.set_alarm_state(
                            alarm_name,
                            f"Threshold Crossed: {package} raised {behaviour.failing_metrics[0]} "
                            f"on {name} (emulated)",
                            json.dumps({"emulated": True, "package": package}),
                            contract.ALARM_STATE_ALARM,
                        )
                        cloudwatch.alarms[alarm_name].state_updated_timestamp = trips_at
                        self.raised[key] = (package, trips_at)
                        self._record(name, "alarm", alarm_name, trips_at)
                    until = serving.until
                    recovered = until is not None and until + self._recovery(alarm_name) <= now
                    if (
                        until is not None
                        and recovered
                        and self.raised.get(key, ("", now))[0] == package
                    ):
                        del self.raised[key]
                        if alarm_name in cloudwatch.alarms:
                            cloudwatch.set_alarm_state(
                                alarm_name,
                                f"Threshold Crossed: {package} no longer serves {name} (emulated)",
                                json.dumps({"emulated": True, "package": package}),
                                contract.ALARM_STATE_OK,
                            )
                            cloudwatch.alarms[alarm_name].state_updated_timestamp = (
                                until + self._recovery(alarm_name)
                            )
                        self._record(name, "alarm-ok", alarm_name, until)

    def alarm_state(self, alarm: Any) -> str:
        """What an alarm's metrics say now: ALARM while a version that breaks its metric
        serves its endpoint; otherwise OK when the endpoint serves (healthy datapoints),
        and, with no datapoints, what its TreatMissingData says."""
        endpoint = next((d.value for d in alarm.dimensions if d.name == "EndpointName"), None)
        if endpoint is not None and (endpoint, alarm.name) in self.raised:
            return contract.ALARM_STATE_ALARM
        if endpoint is not None and self._endpoint_status(endpoint) in (
            contract.ENDPOINT_IN_SERVICE,
            contract.ENDPOINT_UPDATING,
        ):
            return contract.ALARM_STATE_OK
        missing = alarm.treat_missing_data or "missing"
        if missing == "notBreaching":
            return contract.ALARM_STATE_OK
        if missing == "breaching":
            return contract.ALARM_STATE_ALARM
        if missing == "ignore":
            return str(alarm.state_value)
        return INSUFFICIENT_DATA

    def _recovery(self, alarm_name: str) -> timedelta:
        """How long an alarm stays in ALARM after the bad datapoints stop: its
        evaluation window (Period x EvaluationPeriods), or the default when unknown."""
        alarm = self._cloudwatch().alarms.get(alarm_name)
        if alarm is None or not alarm.period or not alarm.evaluation_periods:
            return self.alarm_recovery
        return timedelta(seconds=int(alarm.period) * int(alarm.evaluation_periods))

    def _alarms_for(self, endpoint: str, behaviour: Behaviour, state: EndpointState) -> list[str]:
        on_endpoint = [
            alarm
            for alarm in self._cloudwatch().alarms.values()
            if any(d.name == "EndpointName" and d.value == endpoint for d in alarm.dimensions)
        ]
        matching = [a.name for a in on_endpoint if a.metric_name in behaviour.failing_metrics]
        if matching:
            return sorted(matching)
        if on_endpoint:
            return sorted(a.name for a in on_endpoint)
        known = self._cloudwatch().alarms
        return [name for name in state.alarm_names if name in known]
