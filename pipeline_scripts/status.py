"""``greenlight status``: what is live where, since when, who approved it, who put it there
by hand and why (``greenlight redeploy`` / ``rollback``), what happened last; and a warning
when an endpoint does not run what the ledger says it should, or when the live version is
Rejected in the registry now."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from pipeline_scripts import stack_outputs
from pipeline_scripts.errors import EXIT_FAILURE, aws_code
from pipeline_scripts.history.joins import live_records, operator_requests
from pipeline_scripts.history.reader import HistoryReader
from pipeline_scripts.stage_places import StagePlace
from shared import contract
from shared.ledger import (
    RECORD_DEPLOYED,
    RECORD_FAILED,
    RECORD_ROLLED_BACK,
    Ledger,
    Outcome,
    PipelineRecord,
)
from shared.pipeline_history import deployment_approval
from shared.stage_access import StageAccessDenied

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from mypy_boto3_sagemaker import SageMakerClient

_OUTCOMES: Final = (RECORD_DEPLOYED, RECORD_FAILED, RECORD_ROLLED_BACK)


@dataclass(frozen=True)
class StageStatus:
    stage: str
    live: PipelineRecord | None
    last: PipelineRecord | None
    approver: str | None
    warning: str | None
    #: The operator's request that put the live version there, if one did.
    operator: Outcome | None = None
    #: The live version is Rejected in the registry now.
    rejected: bool = False
    #: Where the stage runs: "<account>/<region>" ("this account" when not configured).
    place: str = ""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "status",
        help="per stage: the live version, since when, who approved it, the last outcome",
        description=(
            "Per stage of the group: the live version (from the ledger), since when, who "
            "approved it and the last outcome. Prints a WARNING line, and exits 1, when an "
            "endpoint's live EndpointConfigName is not the one the ledger recorded."
        ),
    )
    parser.add_argument(
        "group", metavar="GROUP", nargs="?", help="model package group (default: the only one)"
    )
    stack_outputs.add_common_arguments(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    settings = stack_outputs.group_settings(args, args.group)
    ledger = Ledger(
        stack_outputs.ledger_table(args), client=stack_outputs.client("dynamodb", args.region)
    )
    sagemaker = stack_outputs.client("sagemaker", args.region)
    reader = HistoryReader(
        group=settings.group,
        stages=settings.stages,
        ledger=ledger,
        sagemaker=sagemaker,
        codepipeline=stack_outputs.client("codepipeline", args.region),
    )
    reader.versions()  # the group must exist
    statuses = stage_statuses(
        settings.group,
        settings.stages,
        settings.endpoints,
        ledger=ledger,
        sagemaker=sagemaker,
        approval_statuses=reader.approval_statuses,
        places=settings.places,
    )
    print(f"{settings.group} ({contract.pipeline_name(settings.group)})")
    for status in statuses:
        print(_line(status))
    warnings = [w for s in statuses for w in (s.warning, _rejected_warning(s)) if w]
    for warning in warnings:
        print(f"WARNING: {warning}")
    return EXIT_FAILURE if warnings else 0


def stage_statuses(
    group: str,
    stages: tuple[str, ...],
    endpoints: dict[str, str],
    *,
    ledger: Ledger,
    sagemaker: SageMakerClient,
    approval_statuses: dict[str, str] | None = None,
    places: Mapping[str, StagePlace] | None = None,
) -> list[StageStatus]:
    """Each stage's status; its endpoint is read where ``places`` says it runs (through
    that account's reader role), else with ``sagemaker``."""
    placed = places or {}
    region = sagemaker.meta.region_name
    last: dict[str, PipelineRecord] = {}
    records = sorted(
        (r for r in ledger.pipeline_records(group) if r.stage in stages and r.record in _OUTCOMES),
        key=PipelineRecord.sort_key,
        reverse=True,
    )
    for record in records:
        last.setdefault(record.stage or "", record)
    live = live_records(records, stages)
    outcomes = ledger.outcomes(group)
    operators = operator_requests(outcomes)
    statuses = approval_statuses or {}
    return [
        StageStatus(
            stage=stage,
            live=live.get(stage),
            last=last.get(stage),
            approver=_approver(live.get(stage), outcomes),
            warning=_drift(
                stage, live.get(stage), endpoints.get(stage), _reader(placed, stage, sagemaker)
            ),
            operator=operators.get(live[stage].execution_id) if stage in live else None,
            rejected=stage in live
            and statuses.get(live[stage].model_package_arn or "") == contract.REJECTED,
            place=_place(placed.get(stage, StagePlace()), region),
        )
        for stage in stages
    ]


def _place(place: StagePlace, region: str) -> str:
    return f"{place.account or 'this account'}/{place.region or region}"


def _reader(
    places: Mapping[str, StagePlace], stage: str, sagemaker: SageMakerClient
) -> Callable[[], SageMakerClient]:
    """How the stage's endpoint is read: through its account's reader role when it
    runs in another account, else with the caller's own client."""
    place = places.get(stage)
    if place is None or not place.reader.role_arn:
        return lambda: sagemaker
    return lambda: place.sagemaker(sagemaker.meta.region_name)


def _approver(record: PipelineRecord | None, outcomes: list[Outcome]) -> str | None:
    """Who gave the approval the live deployment went out on (shared.pipeline_history)."""
    if record is None or record.model_package_arn is None:
        return None
    approval = deployment_approval(
        outcomes,
        arn=record.model_package_arn,
        request_id=record.request_id,
        execution_type=record.execution_type,
        started_at=record.started_at or record.at,
    )
    return None if approval is None else approval.approved_by


def _drift(
    stage: str,
    record: PipelineRecord | None,
    configured_endpoint: str | None,
    reader: Callable[[], SageMakerClient],
) -> str | None:
    if record is None or not record.endpoint_config_name:
        return None
    endpoint = record.endpoint_name or configured_endpoint
    if not endpoint:
        return None
    try:
        live_config = reader().describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    except StageAccessDenied as denied:
        return f"{stage}: cannot read endpoint {endpoint} ({denied})"
    except ClientError as error:
        if aws_code(error) == "ValidationException":
            return (
                f"{stage}: endpoint {endpoint} does not exist, but the ledger says version "
                f"{record.model_package_version} is live there"
            )
        raise
    if live_config != record.endpoint_config_name:
        return (
            f"{stage}: endpoint {endpoint} runs {live_config}, but the ledger says "
            f"{record.endpoint_config_name} (version {record.model_package_version}, "
            f"execution {record.execution_id}): drift, or a rollback Greenlight did not record"
        )
    return None


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _line(status: StageStatus) -> str:
    if status.live is None:
        live = "nothing live"
    else:
        live = (
            f"v{status.live.model_package_version} live since {_when(status.live.at)}, "
            f"approved by {status.approver or 'unknown'}{_by_hand(status.operator)}"
        )
        if status.rejected:
            live += ", REJECTED since"
    if status.last is None:
        last = "no outcome recorded"
    else:
        last = f"last: {_outcome(status.last.record)} v{status.last.model_package_version}"
        if status.last.reason:
            last += f" ({status.last.reason})"
    return f"  {status.stage} ({status.place}): {live}; {last}"


def _by_hand(request: Outcome | None) -> str:
    """``, redeployed by ARN: why`` (or ``rolled back by``) for an operator's request."""
    if request is None:
        return ""
    done = "redeployed" if request.trigger_reason == contract.REASON_REDEPLOY else "rolled back"
    return f", {done} by {request.operator}: {request.operator_reason or 'no reason given'}"


def _rejected_warning(status: StageStatus) -> str | None:
    if not status.rejected or status.live is None:
        return None
    return (
        f"{status.stage}: v{status.live.model_package_version} is live but Rejected in the "
        "registry (put an Approved version back with greenlight rollback)"
    )


def _outcome(record: str) -> str:
    """A ledger outcome as a phrase before the version it concerns: a rollback names the
    version it put back ("rolled back to v1")."""
    return "rolled back to" if record == RECORD_ROLLED_BACK else record
