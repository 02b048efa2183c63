"""Where the ``greenlight`` commands find what they read: the group's stages (``cdk.json``,
or flags), the ledger table and the notifications topic (the ``Greenlight`` stack's
outputs, or flags and environment variables), and the AWS clients.

Resolution order for the ledger table: ``--ledger-table``, then ``GREENLIGHT_LEDGER_TABLE``,
then the ``LedgerTableName`` output of the ``Greenlight`` stack (DescribeStacks). The
topic: ``--topic-arn``, ``GREENLIGHT_TOPIC_ARN``, then the ``NotificationTopicArn`` output.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, NoRegionError

from pipeline_scripts.errors import (
    NO_REGION,
    GreenlightError,
    NotFound,
    UsageError,
    aws_code,
    aws_detail,
    aws_message,
)
from pipeline_scripts.stage_places import StagePlace, deployed_place, stage_places
from shared import contract
from shared.config import ConfigError, load_config
from shared.gates import Gates

#: An SNS topic ARN: a topic name is 1-256 letters, digits, hyphens and underscores
#: (a FIFO topic's ends in ``.fifo``).
_SNS_TOPIC_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:"
    r"(?:[A-Za-z0-9_-]{1,256}|[A-Za-z0-9_-]{1,251}\.fifo)"
)

DEFAULT_CONFIG = Path("cdk.json")


@dataclass(frozen=True)
class GroupSettings:
    """What the commands need to know about one group from the config."""

    group: str
    stages: tuple[str, ...]
    #: Endpoint name by stage, when the config is known.
    endpoints: dict[str, str] = field(default_factory=dict)
    gates: Gates = field(default_factory=Gates)
    #: Where each stage runs, when the config says (stage name → place).
    places: dict[str, StagePlace] = field(default_factory=dict)


def add_common_arguments(parser: argparse.ArgumentParser, *, topic: bool = False) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"cdk.json holding the greenlight context (default: ./{DEFAULT_CONFIG})",
    )
    parser.add_argument(
        "--stages",
        metavar="A,B",
        help="the group's deployment stages in order, instead of reading them from the config",
    )
    parser.add_argument(
        "--ledger-table",
        metavar="NAME",
        help=f"ledger table (default: ${contract.ENV_LEDGER_TABLE}, or the "
        f"{contract.OUTPUT_LEDGER_TABLE} output of the {contract.STACK_NAME} stack)",
    )
    if topic:
        parser.add_argument(
            "--topic-arn",
            metavar="ARN",
            help=f"notifications topic (default: ${contract.ENV_TOPIC_ARN}, or the "
            f"{contract.OUTPUT_TOPIC_ARN} output of the {contract.STACK_NAME} stack)",
        )
    parser.add_argument("--region", help="AWS region (default: from the environment)")


def client(service: str, region: str | None) -> Any:
    """A plain boto3 client (AWS_ENDPOINT_URL is honoured by boto3 itself)."""
    try:
        return boto3.client(service, region_name=region)  # type: ignore[call-overload]
    except NoRegionError:
        raise UsageError(NO_REGION) from None


def group_settings(args: argparse.Namespace, group: str | None) -> GroupSettings:
    """The group's stages (and endpoints and gates when the config is read).

    Read from ``--config``, else ``./cdk.json``; with neither, from the deployed stacks:
    each group's ``Greenlight-<group>`` stack outputs its pipeline's name, and each
    pipeline's Deploy actions name the stages and their endpoints. With no GROUP there
    must be exactly one group."""
    stages_flag: str | None = getattr(args, "stages", None)
    path: Path | None = getattr(args, "config", None)
    if stages_flag and path is None and not _configures(DEFAULT_CONFIG, group):
        if group is None:
            raise UsageError("GROUP is required with --stages")
        return GroupSettings(group=group, stages=_stage_list(stages_flag))
    if path is None and not DEFAULT_CONFIG.exists():
        return _deployed_settings(args, group)
    path = path or DEFAULT_CONFIG
    if not path.exists():
        raise UsageError(f"no config at {path}: pass --config PATH, or GROUP and --stages")
    try:
        config = load_config(path)
    except ConfigError as error:
        raise UsageError(f"config: {error}") from None
    if group is None:
        if len(config.model_groups) != 1:
            names = ", ".join(g.name for g in config.model_groups)
            raise UsageError(f"GROUP is required: {path} configures {names}")
        group = config.model_groups[0].name
    try:
        settings = config.group(group)
    except KeyError:
        names = ", ".join(g.name for g in config.model_groups)
        raise NotFound(f"group {group!r} is not in {path} (groups: {names})") from None
    stages = settings.stage_names
    if stages_flag:
        chosen = _stage_list(stages_flag)
        unknown = [name for name in chosen if name not in stages]
        if unknown:
            raise UsageError(
                f"--stages: {', '.join(unknown)} not a stage of {group} in {path} "
                f"(stages: {', '.join(stages)})"
            )
        stages = chosen
    return GroupSettings(
        group=group,
        stages=stages,
        endpoints={s.name: s.endpoint_name for s in settings.stages},
        places=stage_places(config, group),
        gates=settings.gates,
    )


def require_stage(settings: GroupSettings, stage: str) -> None:
    if stage not in settings.stages:
        raise NotFound(
            f"stage {stage!r} is not a stage of group {settings.group} "
            f"(stages: {', '.join(settings.stages)})"
        )


def ledger_table(args: argparse.Namespace) -> str:
    return _resolve(
        args,
        getattr(args, "ledger_table", None),
        contract.ENV_LEDGER_TABLE,
        contract.OUTPUT_LEDGER_TABLE,
    )


def topic_arn(args: argparse.Namespace) -> str:
    """The notifications topic; refused unless it is an SNS topic ARN."""
    flag = getattr(args, "topic_arn", None)
    arn = _resolve(args, flag, contract.ENV_TOPIC_ARN, contract.OUTPUT_TOPIC_ARN)
    if _SNS_TOPIC_ARN.fullmatch(arn) is None:
        source = "--topic-arn" if flag else f"${contract.ENV_TOPIC_ARN}"
        if not flag and not os.environ.get(contract.ENV_TOPIC_ARN, "").strip():
            source = f"the {contract.OUTPUT_TOPIC_ARN} output"
        raise UsageError(
            f"{source}: expected an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME), got {arn!r}"
        )
    return arn


def _resolve(args: argparse.Namespace, flag: str | None, env: str, output: str) -> str:
    if flag:
        return flag
    value = os.environ.get(env, "").strip()
    if value:
        return value
    outputs = stack_outputs(client("cloudformation", getattr(args, "region", None)))
    if output not in outputs:
        raise GreenlightError(
            f"the {contract.STACK_NAME} stack has no output {output}; set {env} or pass the flag"
        )
    return outputs[output]


def stack_outputs(cloudformation: Any) -> dict[str, str]:
    """OutputKey -> OutputValue of the Greenlight stack."""
    try:
        stacks = cloudformation.describe_stacks(StackName=contract.STACK_NAME)["Stacks"]
    except ClientError as error:
        if aws_code(error) == "ValidationError":
            raise NotFound(
                f"stack {contract.STACK_NAME} not found ({aws_detail(error)}); deploy it, or pass "
                f"--ledger-table / set {contract.ENV_LEDGER_TABLE}"
            ) from None
        raise GreenlightError(
            f"cannot read stack {contract.STACK_NAME}: {aws_message(error)}"
        ) from None
    return {
        o["OutputKey"]: o["OutputValue"]
        for stack in stacks
        for o in stack.get("Outputs", [])
        if "OutputKey" in o and "OutputValue" in o
    }


def _stage_list(flag: str) -> tuple[str, ...]:
    stages = tuple(s.strip() for s in flag.split(",") if s.strip())
    if not stages:
        raise UsageError("--stages: expected a comma-separated list of stage names")
    return stages


def _configures(path: Path, group: str | None) -> bool:
    """Whether ``path`` is a readable config that holds ``group``: then --stages names
    are checked against it."""
    if group is None or not path.exists():
        return False
    try:
        return any(g.name == group for g in load_config(path).model_groups)
    except ConfigError:
        return False


def deployed_groups(cloudformation: Any) -> list[str]:
    """The groups whose pipelines the deployed Greenlight stacks name: each group's stack
    (``Greenlight-<group>``) outputs its pipeline's name."""
    prefix = contract.pipeline_name("")
    stack_prefix = contract.group_stack_name("")
    groups: set[str] = set()
    try:
        for page in cloudformation.get_paginator("describe_stacks").paginate():
            for stack in page.get("Stacks", []):
                name = str(stack.get("StackName", ""))
                if name != contract.STACK_NAME and not name.startswith(stack_prefix):
                    continue
                groups.update(
                    str(o["OutputValue"]).removeprefix(prefix)
                    for o in stack.get("Outputs", [])
                    if str(o.get("OutputKey", "")).startswith(contract.OUTPUT_PIPELINE_PREFIX)
                    and str(o.get("OutputValue", "")).startswith(prefix)
                )
    except ClientError as error:
        raise GreenlightError(f"cannot list the Greenlight stacks: {aws_message(error)}") from None
    return sorted(groups)


def _deployed_settings(args: argparse.Namespace, group: str | None) -> GroupSettings:
    """The group's stages and endpoints as the deployed stacks and pipeline declare them."""
    region = getattr(args, "region", None)
    deployed = deployed_groups(client("cloudformation", region))
    if group is None:
        if len(deployed) != 1:
            raise UsageError(
                f"GROUP is required: the {contract.STACK_NAME} stacks deploy "
                f"{', '.join(deployed) or 'no group'}"
            )
        group = deployed[0]
    elif group not in deployed:
        raise NotFound(
            f"group {group!r} is not deployed by the {contract.STACK_NAME} stacks "
            f"(groups: {', '.join(deployed) or 'none'})"
        )
    declaration = client("codepipeline", region).get_pipeline(name=contract.pipeline_name(group))[
        "pipeline"
    ]
    endpoints: dict[str, str] = {}
    places: dict[str, StagePlace] = {}
    tooling_region = str(client("codepipeline", region).meta.region_name)
    for stage in declaration.get("stages", []):
        for action in stage.get("actions", []):
            if action.get("name") != contract.ACTION_DEPLOY:
                continue
            parameters = json.loads(action.get("configuration", {}).get("UserParameters", "{}"))
            endpoints[str(parameters["stage"])] = str(parameters["endpointName"])
            place = deployed_place(parameters, tooling_region)
            if place is not None:
                places[str(parameters["stage"])] = place
    if not endpoints:
        raise GreenlightError(f"pipeline {contract.pipeline_name(group)} has no Deploy action")
    return GroupSettings(group=group, stages=tuple(endpoints), endpoints=endpoints, places=places)
