"""The keys each object of the ``greenlight`` context accepts."""

from __future__ import annotations

from typing import Final

from shared.gates import GATES_KEYS

CONTEXT_KEY: Final = "greenlight"

# The keys each object of the context accepts, in the order the reference lists them.
TOP_KEYS: Final = (
    "notificationEmails",
    "toolingAccount",
    "toolingRegion",
    "modelGroups",
)
GROUP_KEYS: Final = (
    "name",
    "description",
    "adoptExistingGroup",
    "shareWithAccounts",
    "modelExecutionRoleArn",
    "modelDataBuckets",
    "modelDataKmsKeyArns",
    "retainEndpointsOnDestroy",
    "keepEndpointConfigs",
    "gates",
    "stages",
)
STAGE_KEYS: Final = (
    "name",
    "endpointName",
    "instanceType",
    "instanceCount",
    "rollout",
    "alarms",
    "bakeMinutes",
    "smokeTest",
    "manualApprovalBefore",
    "account",
    "region",
)
ROLLOUT_KEYS: Final = (
    "type",
    "canaryPercent",
    "linearStepPercent",
    "waitSeconds",
    "terminationWaitSeconds",
    "maximumExecutionTimeoutSeconds",
)
ALARMS_KEYS: Final = (
    "errorRate5xx",
    "modelLatencyMs",
    "errorRate4xx",
    "evaluationPeriods",
    "datapointsToAlarm",
)
SMOKE_TEST_KEYS: Final = (
    "payload",
    "contentType",
    "accept",
    "expectedContentType",
    "expectedPattern",
    "latencyBudgetMs",
)
#: Where each nested object sits: (parent keys, key in the parent, "[]" if a list of them).
_NESTED: Final = (
    (TOP_KEYS, "modelGroups", "[]", GROUP_KEYS),
    (GROUP_KEYS, "gates", "", GATES_KEYS),
    (GROUP_KEYS, "stages", "[]", STAGE_KEYS),
    (STAGE_KEYS, "rollout", "", ROLLOUT_KEYS),
    (STAGE_KEYS, "alarms", "", ALARMS_KEYS),
    (STAGE_KEYS, "smokeTest", "", SMOKE_TEST_KEYS),
)


def context_keys() -> tuple[str, ...]:
    """Every key the ``greenlight`` context accepts, as a path such as
    ``modelGroups[].stages[].rollout.canaryPercent`` (the configuration reference's rows)."""
    prefixes: dict[tuple[str, ...], str] = {TOP_KEYS: ""}
    for parent, key, suffix, child in _NESTED:
        prefixes[child] = f"{prefixes[parent]}{key}{suffix}."
    return tuple(prefix + key for keys, prefix in prefixes.items() for key in keys)
