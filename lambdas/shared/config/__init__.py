"""The ``greenlight`` context of ``cdk.json``, parsed once into frozen dataclasses.

Every bad value is refused with a :class:`ConfigError` whose message names the key path
and what was expected, e.g.
``greenlight.modelGroups[0].stages[1].rollout.canaryPercent: expected 1..50, got 80``.

The CDK app, the ``greenlight`` CLI and the sandbox all read the same model, so this
package imports only the standard library and ``shared``: never ``aws_cdk``.
"""

from __future__ import annotations

from shared.config.keys import CONTEXT_KEY, context_keys
from shared.config.model import (
    AlarmsConfig,
    GreenlightConfig,
    ModelGroupConfig,
    RolloutConfig,
    StageConfig,
)
from shared.config.parse import config_from_context, load_config, parse_config
from shared.config.reader import ConfigError
from shared.gates import Gates

__all__ = [
    "CONTEXT_KEY",
    "AlarmsConfig",
    "ConfigError",
    "Gates",
    "GreenlightConfig",
    "ModelGroupConfig",
    "RolloutConfig",
    "StageConfig",
    "config_from_context",
    "context_keys",
    "load_config",
    "parse_config",
]
