"""A function makes each client once per default session and reuses it; a new session,
or another function of the sandbox, gets clients of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from pipeline_scripts.sandbox.function_process import credentials, environment, own_session
from shared import clients
from shared.function_clients import LedgerFunction
from shared.group_registry import GroupRegistry


def test_a_warm_process_reuses_the_client_it_made() -> None:
    first = clients.client("codepipeline")
    assert clients.client("codepipeline") is first
    assert clients.client("codepipeline", "eu-west-1") is not first
    assert clients.client("codepipeline", "eu-west-1").meta.region_name == "eu-west-1"
    assert clients.client("sagemaker") is not first


def test_a_replaced_default_session_gets_new_clients() -> None:
    first = clients.client("codepipeline")
    boto3.DEFAULT_SESSION = None
    assert clients.client("codepipeline") is not first


def test_each_sandbox_function_keeps_its_own_clients_with_its_own_credentials() -> None:
    sessions: dict[str, boto3.Session] = {}
    made: dict[str, Any] = {}
    for function in ("greenlight-deploy", "greenlight-bake", "greenlight-deploy"):
        with environment(credentials(function)), own_session(sessions, function):
            client = clients.client("codepipeline")
            key = client._request_signer._credentials.access_key
            assert key == credentials(function)["AWS_ACCESS_KEY_ID"]
            made.setdefault(function, client)
            assert made[function] is client
    assert made["greenlight-deploy"] is not made["greenlight-bake"]


def test_the_functions_of_every_group_share_the_process_clients() -> None:
    @dataclass(frozen=True)
    class Config:
        ledger_table: str

    fraud = LedgerFunction(Config("greenlight-ledger"))
    churn = LedgerFunction(Config("greenlight-ledger"))
    assert fraud.sagemaker is churn.sagemaker is clients.client("sagemaker")
    assert fraud.codepipeline is churn.codepipeline
    assert fraud.sns is churn.sns
    assert fraud.ledger.client is churn.ledger.client
    assert GroupRegistry().ssm is GroupRegistry().ssm
