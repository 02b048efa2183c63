"""EventBridge's delivery to the template's Lambda targets, in-process.

The template's rules keep their real targets — the function ARN, its dead-letter queue
and retry policy — so ``events list-targets-by-rule`` shows what CloudFormation would
have created. moto cannot run a Lambda target (it needs Docker), so while
``RuleDelivery`` is installed, an event that moto's own pattern matching sends to one
of the template's rules is kept, with the rule's Lambda targets at that moment, and
the sandbox delivers it to those functions' real handlers when it pumps events.
Every other rule is left to moto. See docs/aws-behaviour.md, "EventBridge".
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.events.models import Rule

from pipeline_scripts.sandbox.accounts import ACCOUNT_ID, REGION


@dataclass(frozen=True)
class Matched:
    """An event a rule matched, and the functions it goes to."""

    rule: str
    functions: tuple[str, ...]
    event: dict[str, Any]


class RuleDelivery:
    """Keeps what the rules named ``rules`` match; ``take`` hands it over once."""

    def __init__(self, rules: Iterable[str]) -> None:
        self._rules = frozenset(rules)
        self._matched: list[Matched] = []
        self._lock = threading.Lock()
        self._original: Any = None

    def install(self) -> RuleDelivery:
        delivery = self
        original = Rule.send_to_targets
        self._original = original

        def send_to_targets(rule: Rule, event: Any, transform_input: bool = True) -> None:
            if not delivery._owns(rule):
                original(rule, event, transform_input)
                return
            if rule.state == "ENABLED" and rule.event_pattern.matches_event(event):
                delivery._keep(rule, event)

        Rule.send_to_targets = send_to_targets  # type: ignore[method-assign,assignment]
        return self

    def uninstall(self) -> None:
        if self._original is not None:
            Rule.send_to_targets = self._original  # type: ignore[method-assign]
            self._original = None

    def take(self) -> list[Matched]:
        """What was matched since the last ``take``, oldest first."""
        with self._lock:
            taken, self._matched = self._matched, []
        return taken

    def _owns(self, rule: Rule) -> bool:
        return (
            rule.name in self._rules
            and rule.account_id == ACCOUNT_ID
            and rule.region_name == REGION
        )

    def _keep(self, rule: Rule, event: Any) -> None:
        functions = tuple(
            target["Arn"].split(":function:", 1)[1].split(":", 1)[0]
            for target in rule.targets
            if ":lambda:" in target["Arn"] and ":function:" in target["Arn"]
        )
        with self._lock:
            self._matched.append(Matched(rule.name, functions, as_delivered(event)))


def as_delivered(event: Any) -> dict[str, Any]:
    """moto's event message as EventBridge delivers it (``time`` in ISO 8601)."""
    delivered: dict[str, Any] = copy.deepcopy(dict(event))
    delivered.pop("ingestion-time", None)
    when = delivered.get("time")
    if isinstance(when, int | float):
        delivered["time"] = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return delivered
