"""The ledger table: reads, and the conditional writes that keep it append-only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared import clients
from shared.contract import LEDGER_PARTITION_KEY as PK
from shared.contract import LEDGER_SORT_KEY as SK
from shared.ledger.acts import NEWEST_APPROVAL_KEY, Act, GroupApproval, NewestApproval
from shared.ledger.codec import (
    deserialize,
    group_key,
    package_key,
    parse_timestamp,
    serialize,
    timestamp,
)
from shared.ledger.outcomes import OUTCOME_FAILED, Outcome
from shared.ledger.records import PIPELINE_PREFIX, MalformedRecord, PipelineRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class Ledger:
    """Reads and conditional writes on the ledger table."""

    def __init__(self, table_name: str, *, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            self._client = clients.client("dynamodb")
        return self._client

    # --- outcomes -----------------------------------------------------------------

    def get_outcome(self, group: str, event_id: str) -> Outcome | None:
        key = {PK: group_key(group), SK: f"EVENT#{event_id}"}
        response = self.client.get_item(
            TableName=self.table_name, Key=serialize(key), ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else Outcome.from_item(item)

    def put_outcome(self, outcome: Outcome) -> Outcome:
        """Record ``outcome`` unless the event already has one that is not ``failed``.

        Returns the outcome that is recorded for the event afterwards (``outcome`` itself,
        or the one a concurrent delivery recorded first).
        """
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=outcome.to_item(),
                ConditionExpression="attribute_not_exists(#pk) OR #outcome = :failed",
                ExpressionAttributeNames={"#pk": PK, "#outcome": "outcome"},
                ExpressionAttributeValues={":failed": {"S": OUTCOME_FAILED}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            existing = self.get_outcome(outcome.group, outcome.event_id)
            if existing is None:  # pragma: no cover - the condition just saw it
                raise
            return existing
        return outcome

    def outcomes(self, group: str) -> list[Outcome]:
        return [
            Outcome.from_item(item)
            for item in self._query(group_key(group), "EVENT#", newest=False)
        ]

    # --- acts ---------------------------------------------------------------------

    def latest_act(self, arn: str) -> Act | None:
        items = self._query(package_key(arn), "ACT#", newest=True, limit=1)
        return Act.from_item(items[0]) if items else None

    def acts(self, arn: str) -> list[Act]:
        return [Act.from_item(item) for item in self._query(package_key(arn), "ACT#", newest=False)]

    def claim(
        self,
        act: Act,
        *,
        approval: GroupApproval | None = None,
        newest: NewestApproval | None = None,
    ) -> bool:
        """Append ``act``, with the group ``approval`` it starts and the raised mark
        ``newest``, all or nothing (one TransactWriteItems), unless one got there first.

        Returns False when a concurrent handler already claimed that act sequence, or
        raised the group's mark to ``newest``'s rank or above; the caller re-reads and
        decides again.
        """
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": act.to_item(),
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": PK},
                }
            }
        ]
        if approval is not None:
            # The same approval (time and version) claimed again after a release
            # writes the same item again.
            items.append({"Put": {"TableName": self.table_name, "Item": approval.to_item()}})
        if newest is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": newest.to_item(),
                        "ConditionExpression": "attribute_not_exists(#pk) OR #rank < :rank",
                        "ExpressionAttributeNames": {"#pk": PK, "#rank": "rank"},
                        "ExpressionAttributeValues": {":rank": {"S": newest.rank}},
                    }
                }
            )
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    # --- the group's newest approval ---------------------------------------------------

    def newest_approval(self, group: str) -> NewestApproval | None:
        """The group's high-water mark: the newest approval claimed so far."""
        key = {PK: group_key(group), SK: NEWEST_APPROVAL_KEY}
        response = self.client.get_item(
            TableName=self.table_name, Key=serialize(key), ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else NewestApproval.from_item(item)

    # --- approval times ---------------------------------------------------------------

    def record_approval_time(
        self, arn: str, *, after_act: int, approved_at: datetime, event_id: str
    ) -> datetime:
        """Record when ``arn`` was approved (the approval that followed act ``after_act``,
        the last rejection, 0 for the first approval) unless it is recorded already;
        return the recorded time."""
        key = {PK: package_key(arn), SK: f"APPROVED#{after_act:08d}"}
        item = {
            **key,
            "kind": "approval-time",
            "modelPackageArn": arn,
            "approvedAt": timestamp(approved_at),
            "eventId": event_id,
        }
        if not self._put_new(serialize(item)):
            recorded = self.client.get_item(
                TableName=self.table_name, Key=serialize(key), ConsistentRead=True
            )["Item"]
            return parse_timestamp(str(deserialize(recorded)["approvedAt"]))
        return parse_timestamp(timestamp(approved_at))

    # --- malformed events ------------------------------------------------------------

    def put_malformed(self, record: MalformedRecord) -> bool:
        """Record ``record`` unless the event was recorded as malformed already."""
        return self._put_new(record.to_item())

    def malformed_events(self, group: str) -> list[MalformedRecord]:
        return [
            MalformedRecord.from_item(item)
            for item in self._query(group_key(group), "MALFORMED#", newest=False)
        ]

    # --- pipeline records -------------------------------------------------------------

    def has_pipeline_event(self, group: str, at: datetime, event_id: str) -> bool:
        key = {PK: group_key(group), SK: f"{PIPELINE_PREFIX}{timestamp(at)}#{event_id}"}
        response = self.client.get_item(
            TableName=self.table_name,
            Key=serialize(key),
            ConsistentRead=True,
            ProjectionExpression="#pk",
            ExpressionAttributeNames={"#pk": PK},
        )
        return "Item" in response

    def put_pipeline_record(self, record: PipelineRecord) -> bool:
        """Append ``record``; False when the same event was recorded already."""
        return self._put_new(record.to_item())

    def _put_new(self, item: Mapping[str, Any]) -> bool:
        """Put ``item`` (already serialized) unless an item with its key exists; False
        when one does. The ledger is append-only: nothing is overwritten."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": PK},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def pipeline_records(
        self, group: str, *, since: datetime | None = None, newest_first: bool = False
    ) -> Iterator[PipelineRecord]:
        """The group's pipeline records in event-time order (from ``since``), read page by
        page as the caller iterates."""
        condition = "#pk = :pk AND begins_with(#sk, :prefix)"
        values: dict[str, Any] = {
            ":pk": {"S": group_key(group)},
            ":prefix": {"S": PIPELINE_PREFIX},
        }
        if since is not None:
            condition = "#pk = :pk AND #sk BETWEEN :low AND :high"
            values = {
                ":pk": {"S": group_key(group)},
                ":low": {"S": f"{PIPELINE_PREFIX}{timestamp(since)}"},
                ":high": {"S": f"{PIPELINE_PREFIX}~"},
            }
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not newest_first,
        }
        while True:
            response = self.client.query(**kwargs)
            for item in response.get("Items", []):
                yield PipelineRecord.from_item(item)
            last = response.get("LastEvaluatedKey")
            if last is None:
                return
            kwargs["ExclusiveStartKey"] = last

    # --- helpers --------------------------------------------------------------------

    def _query(
        self, partition: str, prefix: str, *, newest: bool, limit: int | None = None
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": prefix}},
            "ScanIndexForward": not newest,
            "ConsistentRead": True,
        }
        if limit is not None:
            kwargs["Limit"] = limit
        while True:
            response = self.client.query(**kwargs)
            items.extend(response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if last is None or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = last
