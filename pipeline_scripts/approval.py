"""``greenlight approve`` and ``greenlight reject``: the reviewer's decision, without Studio.

Both commands set ``ModelApprovalStatus`` and ``ApprovalDescription`` on one model package
version with ``UpdateModelPackage``; SageMaker then emits the state-change event that the
approval trigger acts on, and records the caller as ``LastModifiedBy`` (the approver).

Transitions follow the ones SageMaker documents:

=====================  ===========================  ===========================
current status         ``approve``                  ``reject``
=====================  ===========================  ===========================
PendingManualApproval  Approved                     Rejected
Approved               no change, says so (exit 0)  Rejected (rolls back if live)
Rejected               Approved                     no change, says so (exit 0)
=====================  ===========================  ===========================

Re-approving an Approved version changes nothing on purpose: an explicit second
deployment is ``greenlight redeploy``. A version whose package is not ``Completed``
(still being created, or failed) cannot be approved. Anything SageMaker itself refuses
is reported with its message and exit code 4.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError, EndpointConnectionError

from pipeline_scripts.errors import Refused, UsageError, refused, unreachable
from pipeline_scripts.model_registry import find_model_package_arn, sagemaker_client
from shared import contract
from shared.contract import APPROVED, PENDING_MANUAL_APPROVAL, REJECTED

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

#: UpdateModelPackage's limit on ApprovalDescription.
MAX_DESCRIPTION_LENGTH: Final = 1024

#: For each decision, the current statuses SageMaker lets it replace.
_ALLOWED_FROM: Final[dict[str, frozenset[str]]] = {
    APPROVED: frozenset({PENDING_MANUAL_APPROVAL, REJECTED}),
    REJECTED: frozenset({PENDING_MANUAL_APPROVAL, APPROVED}),
}


@dataclass(frozen=True)
class ReviewOutcome:
    """What a review did: ``changed`` is False when the version already had ``status``."""

    model_package_arn: str
    previous_status: str
    status: str
    changed: bool


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for status, command, verb in ((APPROVED, "approve", "Approve"), (REJECTED, "reject", "Reject")):
        parser = subparsers.add_parser(
            command,
            help=f"{verb} a model package version (sets ModelApprovalStatus={status})",
            description=(
                f"{verb} one version of a model package group. "
                + (
                    "Approving sends that exact version through the group's pipeline."
                    if status == APPROVED
                    else "Rejecting a version that is live rolls its stages back."
                )
            ),
        )
        parser.add_argument("group", metavar="GROUP", help="model package group name")
        parser.add_argument("version", metavar="VERSION", type=_version, help="version number")
        parser.add_argument(
            "--description",
            required=True,
            metavar="TEXT",
            help=f"why (stored as ApprovalDescription, at most {MAX_DESCRIPTION_LENGTH} chars)",
        )
        parser.add_argument("--region", help="AWS region (default: from the environment)")
        parser.set_defaults(func=_run, status=status)


def _version(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"version must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"version must be 1 or more, got {value}")
    return value


def _run(args: argparse.Namespace) -> int:
    sagemaker = sagemaker_client(args.region)
    try:
        outcome = review(
            group=args.group,
            version=args.version,
            status=args.status,
            description=args.description,
            sagemaker=sagemaker,
        )
    except EndpointConnectionError as error:
        raise unreachable(error) from None
    name = f"{args.group}/{args.version}"
    if outcome.changed:
        print(
            f"{name}: {outcome.previous_status} -> {outcome.status} ({outcome.model_package_arn})"
        )
    else:
        print(f"{name} is already {outcome.status}; nothing changed")
    return 0


def review(
    *,
    group: str,
    version: int,
    status: str,
    description: str,
    sagemaker: SageMakerClient,
) -> ReviewOutcome:
    """Set ``status`` (Approved or Rejected) on ``group``/``version`` with ``description``."""
    if status not in _ALLOWED_FROM:
        raise UsageError(f"status must be {APPROVED} or {REJECTED}, got {status!r}")
    text = description.strip()
    if not text:
        raise UsageError("--description must not be empty")
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise UsageError(
            f"--description is {len(text)} characters; SageMaker accepts at most "
            f"{MAX_DESCRIPTION_LENGTH}"
        )

    arn = find_model_package_arn(sagemaker, group=group, version=version)
    name = f"{group}/{version}"
    try:
        package = sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as error:
        raise refused(error, f"cannot read {name}") from None
    current = package.get("ModelApprovalStatus", PENDING_MANUAL_APPROVAL)
    if current == status:
        return ReviewOutcome(arn, current, status, changed=False)
    if current not in _ALLOWED_FROM[status]:
        raise Refused(f"{name}: SageMaker does not allow {current} -> {status}")
    package_status = package.get("ModelPackageStatus", contract.MODEL_PACKAGE_COMPLETED)
    if status == APPROVED and package_status != contract.MODEL_PACKAGE_COMPLETED:
        raise Refused(
            f"{name} cannot be approved: its ModelPackageStatus is {package_status}, not Completed"
        )
    try:
        sagemaker.update_model_package(
            ModelPackageArn=arn,
            ModelApprovalStatus=APPROVED if status == APPROVED else REJECTED,
            ApprovalDescription=text,
        )
    except ClientError as error:
        raise refused(error, f"SageMaker refused {current} -> {status} for {name}") from None
    return ReviewOutcome(arn, current, status, changed=True)
