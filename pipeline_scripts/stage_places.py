"""Where each stage of a group runs, as the CLI shows it and reads it.

A stage in the tooling account is read with the caller's own credentials; a stage in
another account through that account's status reader role (the target stack's, read
only), so ``greenlight status`` checks each endpoint where it lives.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared import contract
from shared.stage_access import StageClients, StageTarget

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from mypy_boto3_sagemaker import SageMakerClient

    from pipeline_scripts.history.rows import HistoryRow
    from shared.config import GreenlightConfig

#: The session name the status reader role's sessions carry (CloudTrail names it).
SESSION_NAME = "greenlight-status"


@dataclass(frozen=True)
class StagePlace:
    """A stage's account and region ("" when the config does not name them: the
    caller's own), and the role that reads it there."""

    account: str = ""
    region: str = ""
    reader: StageTarget = field(default_factory=StageTarget)

    @property
    def label(self) -> str:
        """``222222222222/us-east-1``, with ``-`` for what the config leaves unnamed."""
        return f"{self.account or '-'}/{self.region or '-'}"

    def sagemaker(self, region: str | None) -> SageMakerClient:
        """A SageMaker client in the stage's account (``region`` when the config names
        none), through its reader role when it is another account."""
        target = self.reader
        if not target.region and (self.region or region):
            target = StageTarget(role_arn=target.role_arn, region=self.region or region or "")
        client: SageMakerClient = StageClients(target, session_name=SESSION_NAME).client(
            "sagemaker"
        )
        return client


def stage_places(config: GreenlightConfig, group: str) -> dict[str, StagePlace]:
    """Stage name → where it runs, for every stage of ``group``."""
    return {
        stage.name: StagePlace(
            account=stage.account or config.tooling_account or "",
            region=stage.region or config.tooling_region or "",
            reader=config.stage_target(stage, reader=True),
        )
        for stage in config.group(group).stages
    }


def deployed_place(parameters: dict[str, object], tooling_region: str) -> StagePlace | None:
    """Where a deployed Deploy action's parameters say its stage runs, when another
    account; the reader role there is named by the contract."""
    target = StageTarget.from_parameters(parameters)
    if not target.account:
        return None
    region = target.region or tooling_region
    reader = contract.role_arn(target.account, contract.status_reader_role_name(region))
    return StagePlace(
        account=target.account,
        region=region,
        reader=StageTarget(role_arn=reader, region=target.region),
    )


def with_places(rows: Sequence[HistoryRow], places: Mapping[str, StagePlace]) -> list[HistoryRow]:
    """History rows with the account and region of their stage, where the config (or
    the deployed pipeline) names them."""
    return [_placed(row, places.get(row.stage or "")) for row in rows]


def _placed(row: HistoryRow, place: StagePlace | None) -> HistoryRow:
    if place is None:
        return row
    return dataclasses.replace(row, account=place.account or None, region=place.region or None)
