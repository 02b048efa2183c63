"""Parsing the ``greenlight`` context: the groups, their gates, and the whole app."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.config.keys import CONTEXT_KEY, GROUP_KEYS, TOP_KEYS
from shared.config.model import GreenlightConfig, ModelGroupConfig, StageConfig
from shared.config.placement import check_placement, read_account, read_region
from shared.config.reader import ConfigError, JsonObject, describe, read_string
from shared.config.stage import parse_stage
from shared.gates import (
    GATES_KEYS,
    REPORT_SOURCES,
    REQUIRED_REPORTS_KEY,
    SEPARATION_OF_DUTIES_KEY,
    Gates,
)

#: SageMaker's model package group name pattern, with its separate 63-character limit
#: (hyphens count too); ``greenlight register`` checks names against it as well.
GROUP_NAME = re.compile(r"^(?=.{1,63}$)[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
#: An S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens).
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Under the path the shared Deploy function may pass (contract.EXECUTION_ROLE_PATH).
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/greenlight/[\w+=,.@/-]{1,500}$")
# A key ARN, not an alias: an IAM policy that names an alias does not grant use of its key.
_KMS_KEY_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key/"
    r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _gates(raw: Any, path: str) -> Gates:
    obj = JsonObject(raw, path, GATES_KEYS)

    def report(value: Any, at: str) -> str:
        if value not in REPORT_SOURCES:
            expected = ", ".join(REPORT_SOURCES)
            raise ConfigError(at, f"expected one of {expected}, got {describe(value)}")
        return str(value)

    reports = obj.items(REQUIRED_REPORTS_KEY, report, default=())
    if len(set(reports)) != len(reports):
        raise ConfigError(obj.at(REQUIRED_REPORTS_KEY), f"expected no duplicates, got {reports}")
    return Gates(
        required_reports=reports,
        separation_of_duties=obj.boolean(SEPARATION_OF_DUTIES_KEY, False),
    )


def _unique(values: tuple[str, ...], path: str) -> tuple[str, ...]:
    for index, value in enumerate(values):
        if value in values[:index]:
            raise ConfigError(path, f"expected no duplicates, got {value!r} twice")
    return values


def _model_data_access(
    obj: JsonObject, role_arn: str | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The buckets and KMS keys the created execution role may read, or none with a
    configured role, which must hold that access itself (SageMaker reads the artifacts and
    pulls the image with the role CreateModel names)."""
    buckets_key, keys_key = "modelDataBuckets", "modelDataKmsKeyArns"
    if role_arn is not None:
        for key in (buckets_key, keys_key):
            if key in obj.raw:
                raise ConfigError(
                    obj.at(key),
                    "cannot be set together with modelExecutionRoleArn: the stack grants "
                    "nothing to a role it does not create; give that role read access to "
                    f"the model data itself and remove {key}",
                )
        return (), ()
    if obj.raw.get(buckets_key, []) == []:
        problem = (
            "required when modelExecutionRoleArn is not set: expected at least one S3 bucket "
            "name, got an empty list"
            if buckets_key in obj.raw
            else "required when modelExecutionRoleArn is not set, but missing"
        )
        raise ConfigError(
            obj.at(buckets_key),
            f"{problem}. Name the buckets that hold this group's model artifacts, so that the "
            "execution role the stack creates may read them (and list their customer managed "
            "KMS keys in modelDataKmsKeyArns if they are encrypted with one), or set "
            "modelExecutionRoleArn to a role that can read them",
        )
    buckets = obj.items(
        buckets_key,
        lambda v, at: read_string(v, at, pattern=BUCKET_NAME, expected="an S3 bucket name"),
    )
    keys = obj.items(
        keys_key,
        lambda v, at: read_string(
            v,
            at,
            pattern=_KMS_KEY_ARN,
            expected="a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID; not an alias)",
        ),
        default=(),
    )
    return _unique(buckets, obj.at(buckets_key)), _unique(keys, obj.at(keys_key))


def _execution_role(obj: JsonObject) -> str | None:
    """The group's ``modelExecutionRoleArn``: a role the shared Deploy may pass, or None."""
    role_arn = obj.get("modelExecutionRoleArn", None)
    if role_arn is None:
        return None
    return read_string(
        role_arn,
        obj.at("modelExecutionRoleArn"),
        pattern=_ROLE_ARN,
        expected=(
            "an IAM role ARN under the path /greenlight/ "
            "(arn:aws:iam::ACCOUNT:role/greenlight/NAME: the shared Deploy function "
            "may pass only roles there) or null"
        ),
    )


def _stages(obj: JsonObject) -> tuple[StageConfig, ...]:
    """The group's stages: names unique, and no manual approval before the first."""
    stages = obj.items("stages", parse_stage, non_empty=True)
    seen: dict[str, str] = {}
    for index, stage in enumerate(stages):
        _first_use(
            seen,
            stage.name,
            f"stages[{index}]",
            field=f"{obj.at('stages')}[{index}].name",
            expected="a stage name unique in the group",
        )
    if stages[0].manual_approval_before:
        # Nothing has been deployed before the first stage: the approval in the
        # registry is the gate in front of it.
        raise ConfigError(
            f"{obj.at('stages')}[0].manualApprovalBefore",
            "expected false on the first stage (the registry approval already gates it)",
        )
    return stages


def _group(raw: Any, path: str) -> ModelGroupConfig:
    obj = JsonObject(raw, path, GROUP_KEYS)
    name = obj.string(
        "name",
        pattern=GROUP_NAME,
        expected="a model package group name (letters, digits, hyphens; 1-63 characters)",
    )
    role_arn = _execution_role(obj)
    accounts = obj.items(
        "shareWithAccounts",
        lambda v, at: read_string(v, at, pattern=_ACCOUNT_ID, expected="a 12-digit account id"),
        default=(),
    )
    buckets, kms_keys = _model_data_access(obj, role_arn)
    adopt = obj.boolean("adoptExistingGroup", False)
    if adopt and accounts:
        # CloudFormation sets a group's resource policy only on a group it creates.
        raise ConfigError(
            obj.at("adoptExistingGroup"),
            "cannot be true together with shareWithAccounts: the stack cannot set the "
            "resource policy of a group it does not create; put the policy on the existing "
            "group (PutModelPackageGroupPolicy) and remove shareWithAccounts",
        )
    stages = _stages(obj)
    return ModelGroupConfig(
        name=name,
        description=obj.string("description"),
        stages=stages,
        gates=_gates(obj.get("gates", {}), obj.at("gates")),
        share_with_accounts=accounts,
        model_execution_role_arn=role_arn,
        model_data_buckets=buckets,
        model_data_kms_key_arns=kms_keys,
        retain_endpoints_on_destroy=obj.boolean("retainEndpointsOnDestroy", False),
        keep_endpoint_configs=obj.integer("keepEndpointConfigs", low=1, high=20, default=3),
        adopt_existing_group=adopt,
    )


def parse_config(raw: Any, path: str = CONTEXT_KEY) -> GreenlightConfig:
    """Parse the ``greenlight`` context value; raise :class:`ConfigError` on any bad value."""
    obj = JsonObject(raw, path, TOP_KEYS)
    emails = obj.items(
        "notificationEmails",
        lambda v, at: read_string(v, at, pattern=_EMAIL, expected="an email address"),
        default=(),
    )
    groups = obj.items("modelGroups", _group, non_empty=True)
    group_seen: dict[str, str] = {}
    endpoint_seen: dict[str, str] = {}
    for g_index, group in enumerate(groups):
        _first_use(
            group_seen,
            group.name,
            f"modelGroups[{g_index}]",
            field=f"{obj.at('modelGroups')}[{g_index}].name",
            expected="a unique group name",
        )
        for s_index, stage in enumerate(group.stages):
            here = f"modelGroups[{g_index}].stages[{s_index}]"
            _first_use(
                endpoint_seen,
                stage.endpoint_name,
                here,
                field=f"{path}.{here}.endpointName",
                expected="an endpoint name unique across all groups",
            )
    config = GreenlightConfig(
        model_groups=groups,
        notification_emails=emails,
        tooling_account=read_account(obj, "toolingAccount"),
        tooling_region=read_region(obj, "toolingRegion"),
    )
    check_placement(config, path)
    return config


def _first_use(seen: dict[str, str], name: str, where: str, *, field: str, expected: str) -> None:
    """Note that ``name`` stands at ``where``; a name noted before is refused at ``field``,
    naming where it first stood."""
    if name in seen:
        raise ConfigError(field, f"expected {expected}, got {name!r} (also {seen[name]})")
    seen[name] = where


def config_from_context(context: Mapping[str, Any]) -> GreenlightConfig:
    """Parse the ``greenlight`` entry of a CDK context mapping."""
    if CONTEXT_KEY not in context:
        raise ConfigError(CONTEXT_KEY, "required context key, but missing from cdk.json")
    return parse_config(context[CONTEXT_KEY])


def load_config(cdk_json: Path) -> GreenlightConfig:
    """Read ``cdk.json`` and parse its ``greenlight`` context."""
    try:
        document = json.loads(cdk_json.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(str(cdk_json), f"expected a readable JSON file ({error})") from None
    if not isinstance(document, dict):
        raise ConfigError(str(cdk_json), "expected a JSON object")
    context = document.get("context", {})
    if not isinstance(context, dict):
        raise ConfigError(f"{cdk_json}.context", "expected an object")
    return config_from_context(context)
