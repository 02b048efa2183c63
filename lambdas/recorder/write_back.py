"""Stage outcomes written back to the registry, where SageMaker shows them.

``ModelLifeCycle`` (Stage, StageStatus, StageDescription) and the
``greenlight:<stage>:execution`` / ``greenlight:<stage>:at`` metadata, with an
UpdateModelPackage that names only those fields. The write makes SageMaker emit another
state-change event for the package; the approval trigger sees an approval it already
acted on and starts nothing (DESIGN rule 3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from shared import contract
from shared.ledger import (
    RECORD_DEPLOYED,
    RECORD_FAILED,
    RECORD_ROLLED_BACK,
    PipelineRecord,
    timestamp,
)
from shared.metadata import metadata_value

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

#: ModelLifeCycle StageStatus values Greenlight writes.
STATUS_DEPLOYED: Final = "Deployed"
STATUS_FAILED: Final = "Failed"
STATUS_ROLLED_BACK: Final = "RolledBack"


def write_back(sagemaker: SageMakerClient, record: PipelineRecord) -> None:
    """Write ``record``'s stage outcome to the versions it concerns: the deployed (or
    failed) one, and for a rollback also the version it replaced."""
    if record.record == RECORD_DEPLOYED:
        _write(sagemaker, record, record.model_package_arn, STATUS_DEPLOYED)
    elif record.record == RECORD_FAILED:
        _write(sagemaker, record, record.model_package_arn, STATUS_FAILED)
    elif record.record == RECORD_ROLLED_BACK:
        _write(sagemaker, record, record.model_package_arn, STATUS_DEPLOYED)
        failed_arn = _arn_of_version(record.model_package_arn, record.rolled_back_version)
        if failed_arn and record.rolled_back_version != record.model_package_version:
            _write(sagemaker, record, failed_arn, STATUS_ROLLED_BACK)


def _write(
    sagemaker: SageMakerClient, record: PipelineRecord, arn: str | None, status: str
) -> None:
    if arn is None or record.stage is None:
        return
    at = timestamp(record.at)
    description = f"execution {record.execution_id} at {at}"
    if status == STATUS_ROLLED_BACK:
        description += f" rolled back to version {record.model_package_version}"
    sagemaker.update_model_package(
        ModelPackageArn=arn,
        ModelLifeCycle={
            "Stage": record.stage,
            "StageStatus": status,
            "StageDescription": description[:1024],
        },
        CustomerMetadataProperties={
            contract.stage_execution_metadata_key(record.stage): metadata_value(
                record.execution_id
            ),
            contract.stage_time_metadata_key(record.stage): metadata_value(at),
        },
    )


def _arn_of_version(arn: str | None, version: int | None) -> str | None:
    """The ARN of another version of the same group (``…/<group>/<version>``)."""
    if arn is None or version is None:
        return None
    return f"{arn.rsplit('/', 1)[0]}/{version}"
