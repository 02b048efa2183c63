"""Where stages run: ``account`` and ``region`` on a stage, ``toolingAccount`` and
``toolingRegion`` for Greenlight itself, and the refusals for a placement that cannot
work (see docs/accounts.md)."""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from shared.config.reader import ConfigError, JsonObject
from shared.regions import SAGEMAKER_REGIONS

if TYPE_CHECKING:
    from shared.config.model import GreenlightConfig, ModelGroupConfig, StageConfig

_ACCOUNT_ID = re.compile(r"^\d{12}$")


def read_account(obj: JsonObject, key: str) -> str | None:
    if key not in obj.raw:
        return None
    return str(obj.string(key, pattern=_ACCOUNT_ID, expected="a 12-digit AWS account id"))


def read_region(obj: JsonObject, key: str) -> str | None:
    """A region where SageMaker is available (``shared.regions``), or None."""
    if key not in obj.raw:
        return None
    region = str(obj.string(key, expected="an AWS region where SageMaker is available"))
    if region not in SAGEMAKER_REGIONS:
        close = difflib.get_close_matches(region, sorted(SAGEMAKER_REGIONS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            obj.at(key),
            f"expected an AWS region where SageMaker is available, got {region!r}{hint}",
        )
    return region


def check_placement(config: GreenlightConfig, path: str) -> None:
    """Refuse a placement that cannot work, naming the key and what it needs."""
    placed = [
        (g_index, s_index, group, stage)
        for g_index, group in enumerate(config.model_groups)
        for s_index, stage in enumerate(group.stages)
        if stage.account is not None or stage.region is not None
    ]
    _check_tooling(config, path, placed[0][:2] if placed else None)
    for g_index, s_index, group, stage in placed:
        here = f"{path}.modelGroups[{g_index}]"
        _check_region(config, stage, f"{here}.stages[{s_index}].region")
        if config.placement(stage) is not None and stage.account not in (
            None,
            config.tooling_account,
        ):
            _check_cross_account(group, stage, here)
            _check_key_regions(config, group, here)


def _check_tooling(config: GreenlightConfig, path: str, first: tuple[int, int] | None) -> None:
    if (config.tooling_account is None) != (config.tooling_region is None):
        missing = "toolingRegion" if config.tooling_region is None else "toolingAccount"
        raise ConfigError(
            f"{path}.{missing}",
            "required together with toolingAccount and toolingRegion: name both, the "
            "account and region the Greenlight stacks deploy to",
        )
    if first is not None and config.tooling_account is None:
        g_index, s_index = first
        raise ConfigError(
            f"{path}.toolingAccount",
            f"required when a stage names an account or region (modelGroups[{g_index}]"
            f".stages[{s_index}]): the target stack trusts the tooling account's functions "
            "by role ARN, and a cross-account stack needs both environments; set "
            "toolingAccount and toolingRegion to where the Greenlight stacks deploy",
        )


def _check_region(config: GreenlightConfig, stage: StageConfig, at: str) -> None:
    if stage.region is None or stage.region == config.tooling_region:
        return
    raise ConfigError(
        at,
        f"expected the tooling region {config.tooling_region!r}, got {stage.region!r}: "
        "SageMaker creates a model only from a package, artifacts and an image in the "
        "endpoint's own region, and this app's versions are registered in "
        f"{config.tooling_region}; deploy to {stage.region} from a Greenlight whose "
        "toolingRegion it is",
    )


def _check_cross_account(group: ModelGroupConfig, stage: StageConfig, here: str) -> None:
    """A stage in another account needs what lets that account read the model."""
    if group.model_execution_role_arn is not None:
        raise ConfigError(
            f"{here}.modelExecutionRoleArn",
            f"cannot be set when stage {stage.name!r} runs in account {stage.account}: "
            "CreateModel passes only a role of the model's own account; remove it (the "
            "target stack creates one there) and name the model data in modelDataBuckets "
            "(and modelDataKmsKeyArns)",
        )
    if group.adopt_existing_group:
        raise ConfigError(
            f"{here}.adoptExistingGroup",
            f"cannot be true when stage {stage.name!r} runs in account {stage.account}: "
            "the group's resource policy must let that account read its versions, and "
            "the stack sets it only on a group it creates",
        )


def _check_key_regions(config: GreenlightConfig, group: ModelGroupConfig, here: str) -> None:
    """S3 encrypts an object with a key of the bucket's region, and SageMaker reads
    artifacts only in the endpoint's region: a key elsewhere cannot decrypt them."""
    for index, arn in enumerate(group.model_data_kms_key_arns):
        region = arn.split(":")[3]
        if region != config.tooling_region:
            raise ConfigError(
                f"{here}.modelDataKmsKeyArns[{index}]",
                f"expected a key in {config.tooling_region}, where the endpoints read the "
                f"model artifacts, got one in {region}; the target account also needs "
                "kms:Decrypt in this key's policy (docs/accounts.md)",
            )
