"""The AWS clients of a function that writes the ledger, each made on first use.

The approval trigger and the recorder both read the registry and the pipeline, publish to
SNS and write the ledger. A test (or the sandbox) passes its own clients and clock; a
client it does not pass is the process's own (``shared.clients``), so the trigger or
recorder of every group a warm container serves shares one client per service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, Protocol, TypedDict, TypeVar

from shared import clients
from shared.clock import Clock, current_clock
from shared.ledger import Ledger

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sns import SNSClient


class LedgerConfig(Protocol):
    @property
    def ledger_table(self) -> str: ...


ConfigT = TypeVar("ConfigT", bound=LedgerConfig)


class Clients(TypedDict, total=False):
    """The clients and clock a caller may pass; each one left out is made on first use."""

    sagemaker: SageMakerClient | None
    codepipeline: CodePipelineClient | None
    sns: SNSClient | None
    dynamodb: DynamoDBClient | None
    clock: Clock | None


class LedgerFunction(Generic[ConfigT]):
    """A function's configuration, its ledger, its clock and its AWS clients."""

    def __init__(
        self,
        config: ConfigT,
        *,
        sagemaker: SageMakerClient | None = None,
        codepipeline: CodePipelineClient | None = None,
        sns: SNSClient | None = None,
        dynamodb: DynamoDBClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self._sagemaker = sagemaker
        self._codepipeline = codepipeline
        self._sns = sns
        self.ledger = Ledger(config.ledger_table, client=dynamodb)
        self.clock: Clock = clock or current_clock()

    @property
    def sagemaker(self) -> SageMakerClient:
        if self._sagemaker is None:
            self._sagemaker = clients.client("sagemaker")
        return self._sagemaker

    @property
    def codepipeline(self) -> CodePipelineClient:
        if self._codepipeline is None:
            self._codepipeline = clients.client("codepipeline")
        return self._codepipeline

    @property
    def sns(self) -> SNSClient:
        if self._sns is None:
            self._sns = clients.client("sns")
        return self._sns
