"""The readable message the recorder publishes for each record worth telling.

One function per record kind; a kind without one (stage started, an action failure,
an answered manual approval, the execution's end) is not told.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from shared import contract
from shared.ledger import (
    RECORD_AWAITING_APPROVAL,
    RECORD_DEPLOYED,
    RECORD_EXECUTION_STARTED,
    RECORD_FAILED,
    RECORD_ROLLED_BACK,
    RECORD_STOPPED,
    RECORD_SUPERSEDED,
    PipelineRecord,
    timestamp,
)
from shared.notify import publish

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

Message = tuple[str, str]


@dataclass(frozen=True, kw_only=True)
class _Told:
    """What every message says: the record, its group and pipeline, and the version."""

    record: PipelineRecord
    group: str
    pipeline_name: str

    @property
    def version(self) -> str:
        number = self.record.model_package_version
        return "an unknown version" if number is None else f"version {number}"

    @property
    def facts(self) -> str:
        record = self.record
        return (
            f"Group: {self.group}\nVersion: {record.model_package_version}\n"
            f"Package: {record.model_package_arn}\nExecution: {record.execution_id}\n"
            f"Trigger: {record.trigger_reason or record.trigger_type}\n"
            f"At: {timestamp(record.at)}\n"
        )


def notify(
    sns: SNSClient, *, topic_arn: str, group: str, pipeline_name: str, record: PipelineRecord
) -> None:
    """Publish the record's message, with the attributes subscribers filter on; nothing
    for a record that deploys nothing or is not told."""
    if record.model_package_arn is None:
        return
    told = message(record, group=group, pipeline_name=pipeline_name)
    if told is None:
        return
    subject, body = told
    version = record.model_package_version
    publish(
        sns,
        topic_arn=topic_arn,
        subject=subject,
        body=body,
        attributes={
            "group": group,
            "stage": record.stage or "",
            "outcome": record.record,
            "version": "" if version is None else str(version),
        },
    )


def message(record: PipelineRecord, *, group: str, pipeline_name: str) -> Message | None:
    """The subject and body telling ``record``, or None when its kind is not told."""
    compose = _COMPOSERS.get(record.record)
    return (
        None
        if compose is None
        else compose(_Told(record=record, group=group, pipeline_name=pipeline_name))
    )


def _started(told: _Told) -> Message:
    record, group, version = told.record, told.group, told.version
    if record.execution_type == contract.EXECUTION_ROLLBACK:
        return (
            f"Greenlight: {group} rollback to {version} started",
            f"A rollback execution started ({record.trigger_type}); it puts "
            f"{version} back (target execution "
            f"{record.rollback_target_execution_id}).\n\n{told.facts}",
        )
    return (
        f"Greenlight: {group} {version} deployment started",
        f"The pipeline started deploying {version} "
        f"({record.trigger_reason or 'unknown reason'}).\n\n{told.facts}",
    )


def _deployed(told: _Told) -> Message:
    record, version = told.record, told.version
    return (
        f"Greenlight: {told.group} {version} deployed to {record.stage}",
        f"{version.capitalize()} is live in {record.stage} "
        f"(endpoint {record.endpoint_name}, config {record.endpoint_config_name}).\n\n"
        f"{told.facts}",
    )


def _failed(told: _Told) -> Message:
    record, version = told.record, told.version
    return (
        f"Greenlight: {told.group} {version} failed in {record.stage}",
        f"{version.capitalize()} failed in {record.stage}.\n\nWhy: {record.reason}\n\n{told.facts}",
    )


def _rolled_back(told: _Told) -> Message:
    record = told.record
    return (
        f"Greenlight: {told.group} {record.stage} rolled back from version "
        f"{record.rolled_back_version} to version {record.model_package_version}",
        f"{record.stage} was rolled back from version {record.rolled_back_version} "
        f"(execution {record.rolled_back_execution_id}) to version "
        f"{record.model_package_version} (execution "
        f"{record.rollback_target_execution_id}).\n\n"
        f"Cause: {record.reason or 'a rollback was requested'}\n\n{told.facts}",
    )


def _awaiting_approval(told: _Told) -> Message:
    record, version = told.record, told.version
    return (
        f"Greenlight: {told.group} {version} awaits approval for {record.stage}",
        f"{version.capitalize()} is waiting for a manual approval before "
        f"{record.stage}. Approve or reject it in the CodePipeline console "
        f"(pipeline {told.pipeline_name}).\n\n{told.facts}",
    )


def _superseded(told: _Told) -> Message:
    return (
        f"Greenlight: {told.group} {told.version} superseded",
        f"A newer execution overtook {told.version}; it stops where it was.\n\n{told.facts}",
    )


def _stopped(told: _Told) -> Message:
    return (
        f"Greenlight: {told.group} {told.version} stopped",
        f"The execution deploying {told.version} was stopped.\n\n"
        f"Why: {told.record.reason}\n\n{told.facts}",
    )


_COMPOSERS: Final[dict[str, Callable[[_Told], Message]]] = {
    RECORD_EXECUTION_STARTED: _started,
    RECORD_DEPLOYED: _deployed,
    RECORD_FAILED: _failed,
    RECORD_ROLLED_BACK: _rolled_back,
    RECORD_AWAITING_APPROVAL: _awaiting_approval,
    RECORD_SUPERSEDED: _superseded,
    RECORD_STOPPED: _stopped,
}
