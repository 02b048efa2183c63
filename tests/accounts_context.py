"""A ``greenlight`` context with production in an account of its own, for the suites
that test stages in other accounts."""

from __future__ import annotations

from typing import Any

TOOLING = "111111111111"
PRODUCTION = "222222222222"
REGION = "us-east-1"


def stage(name: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "endpointName": f"churn-{name}",
        "instanceType": "ml.m5.large",
        "instanceCount": 1,
        "rollout": {"type": "ALL_AT_ONCE"},
        "alarms": {"errorRate5xx": 0.05, "modelLatencyMs": 500},
        "bakeMinutes": 5,
        "smokeTest": {"payload": "1,2,3"},
        **overrides,
    }


def accounts_context(production: dict[str, Any] | None = None, **group: Any) -> dict[str, Any]:
    """Staging at home and production in PRODUCTION (or as ``production`` places it);
    ``group`` overrides keys of the one group, ``churn``."""
    return {
        "toolingAccount": TOOLING,
        "toolingRegion": REGION,
        "modelGroups": [
            {
                "name": "churn",
                "description": "Churn scores",
                "modelDataBuckets": ["churn-model-artifacts"],
                "stages": [
                    stage("staging"),
                    stage("production", **(production or {"account": PRODUCTION})),
                ],
                **group,
            }
        ],
    }
