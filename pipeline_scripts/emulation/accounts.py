"""The emulated SageMaker and CloudWatch of every account (and region) the sandbox serves.

moto keeps a backend per account id and region, and files each request by its access key
(``sts:AssumeRole`` credentials belong to the role's account). The emulation that sits on
top of moto — guardrail updates, scenario metrics, alarm evaluation — is per account and
region too: ``EmulatedAccounts`` holds one ``EmulatedSageMaker`` for each, made on first
use, and hands a routed request to the one of the account it is served in. Versions
behave the same wherever they run (one table of behaviours), and one clock moves them all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pipeline_scripts.emulation.endpoint_model import Behaviour, TickingClock
from pipeline_scripts.emulation.sagemaker import EmulatedSageMaker
from pipeline_scripts.emulation.service import caller_account
from shared.clock import Clock


class EmulatedAccounts:
    """``home`` is the tooling account and region: where a call outside a request, and
    the single-account sandbox, are served."""

    def __init__(self, clock: Clock, *, home: tuple[str, str], **settings: Any) -> None:
        self._base = clock
        self.home = home
        self._settings = settings
        self.behaviours: dict[str, Behaviour] = {}
        self._emulators: dict[tuple[str, str], EmulatedSageMaker] = {}
        #: Sleeping on this clock moves every account's endpoints and alarms on.
        self.clock = TickingClock(clock, self.tick)

    def of(self, account: str, region: str) -> EmulatedSageMaker:
        """The emulation of ``account`` in ``region``."""
        key = (account, region)
        if key not in self._emulators:
            emulator = EmulatedSageMaker(
                self._base, account_id=account, region=region, **self._settings
            )
            # One table: a version misbehaves in every account it is deployed to.
            emulator.behaviours = self.behaviours
            self._emulators[key] = emulator
        return self._emulators[key]

    @property
    def at_home(self) -> EmulatedSageMaker:
        return self.of(*self.home)

    def for_caller(self) -> EmulatedSageMaker:
        """The emulation of the account the request being served is in."""
        return self.of(*(caller_account() or self.home))

    def __iter__(self) -> Iterator[EmulatedSageMaker]:
        return iter(list(self._emulators.values()))

    def tick(self) -> None:
        for emulator in self:
            emulator.tick()

    def declare_behaviour(self, package_arn: str, **behaviour: Any) -> None:
        self.at_home.declare_behaviour(package_arn, **behaviour)

    # --- routed operations: each runs in the caller's account ------------------------

    def update_endpoint(self, **params: Any) -> dict[str, Any]:
        return self.for_caller().update_endpoint(**params)

    def refuse_existing(self, params: Mapping[str, Any]) -> None:
        self.for_caller().refuse_existing(params)

    def endpoint_created(self, params: Mapping[str, Any]) -> None:
        self.for_caller().endpoint_created(params["EndpointName"], params["EndpointConfigName"])

    def alarm_created(self, params: Mapping[str, Any]) -> None:
        self.for_caller().alarms.created(params)

    def alarm_set_by_hand(self, params: Mapping[str, Any]) -> None:
        self.for_caller().alarms.set_by_hand(params)

    def prepare_invocation(self, params: Mapping[str, Any]) -> None:
        self.for_caller().prepare_invocation(params["EndpointName"])
