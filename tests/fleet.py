"""A fleet of model package groups for the scale tests and the synth bench: the shipped
example group (cdk.json), copied ``count`` times under its own names."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from shared.config import CONTEXT_KEY

REPO = Path(__file__).resolve().parents[1]


def example_context() -> dict[str, Any]:
    """The ``greenlight`` context of the shipped cdk.json."""
    document = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))
    context: dict[str, Any] = document["context"][CONTEXT_KEY]
    return context


def fleet_context(count: int) -> dict[str, Any]:
    """``count`` groups shaped like the example's first one: ``model-001`` … with
    endpoints ``model-001-staging`` …"""
    example = example_context()
    (template,) = example["modelGroups"][:1]
    groups = []
    for number in range(1, count + 1):
        group = copy.deepcopy(template)
        group["name"] = f"model-{number:03d}"
        for stage in group["stages"]:
            stage["endpointName"] = f"{group['name']}-{stage['name']}"
        groups.append(group)
    return {**example, "modelGroups": groups}
