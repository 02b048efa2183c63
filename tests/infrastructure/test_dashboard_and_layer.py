"""The Powertools layer on every function, and one dashboard per group that shows the
recorder's deployment metrics, the stage alarms and the stage endpoints."""

from __future__ import annotations

import json
import re
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from shared import contract
from stacks.lambda_function import POWERTOOLS_LAYER_VERSION, POWERTOOLS_VERSION
from tests.infrastructure.conftest import Synthesized

pytestmark = pytest.mark.infrastructure

REPO = Path(__file__).resolve().parents[2]
DEPLOYMENT_METRICS = (
    "DeploymentsStarted",
    "DeploymentsSucceeded",
    "DeploymentsFailed",
    "DeploymentsRolledBack",
    "LeadTime",
    "TimeToRestore",
)


# --- the layer ----------------------------------------------------------------------------


def test_every_function_has_the_pinned_powertools_layer_for_its_partition_region_and_arch(
    synthesized: Synthesized,
) -> None:
    expected = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":lambda:",
                {"Ref": "AWS::Region"},
                ":017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:"
                f"{POWERTOOLS_LAYER_VERSION}",
            ],
        ]
    }
    for logical_id, function in synthesized.greenlight_functions().items():
        properties = function["Properties"]
        assert properties["Architectures"] == ["arm64"], logical_id
        assert properties["Runtime"] == "python3.12", logical_id
        assert properties["Layers"] == [expected], logical_id


def test_the_layer_release_is_the_one_pinned_for_development_and_installed() -> None:
    # GIVEN the release the stack's layer version holds, and the project's pins
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    # The CLI's rollback and redeploy run the trigger's logic, so it is a core dependency.
    core = project["project"]["dependencies"]
    constraints = (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()

    # THEN the core dependencies, the constraints and the installed package are that release
    assert f"aws-lambda-powertools=={POWERTOOLS_VERSION}" in core
    assert f"aws-lambda-powertools=={POWERTOOLS_VERSION}" in constraints
    assert version("aws-lambda-powertools") == POWERTOOLS_VERSION


# --- the dashboard ------------------------------------------------------------------------


def _body(synthesized: Synthesized, group: str) -> dict[str, Any]:
    """The group's dashboard body, its tokens written as ``<Ref>`` and ``<Id.Attr>``."""
    (dashboard,) = [
        d
        for d in synthesized.group(group).resources("AWS::CloudWatch::Dashboard").values()
        if d["Properties"]["DashboardName"] == f"greenlight-{group}"
    ]
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    text = "".join(
        part
        if isinstance(part, str)
        else f"<{part['Ref']}>"
        if "Ref" in part
        else f"<{'.'.join(part['Fn::GetAtt'])}>"
        for part in parts
    )
    return dict(json.loads(text))


def _alarm_ids(synthesized: Synthesized, group: str, stage: str) -> set[str]:
    prefix = contract.alarm_name(group, stage, "")
    return {
        logical_id
        for logical_id, alarm in synthesized.group(group)
        .resources("AWS::CloudWatch::Alarm")
        .items()
        if alarm["Properties"]["AlarmName"].startswith(prefix)
    }


def _metric_rows(widget: dict[str, Any]) -> list[list[Any]]:
    return list(widget["properties"].get("metrics", []))


def test_one_dashboard_per_group_in_its_own_stack(synthesized: Synthesized) -> None:
    assert synthesized.resources("AWS::CloudWatch::Dashboard") == {}
    for group in synthesized.config.model_groups:
        names = [
            d["Properties"]["DashboardName"]
            for d in synthesized.group(group.name).resources("AWS::CloudWatch::Dashboard").values()
        ]
        assert names == [f"greenlight-{group.name}"]


def test_each_stage_shows_the_recorders_metrics_for_its_group_and_stage(
    synthesized: Synthesized,
) -> None:
    for group in synthesized.config.model_groups:
        widgets = _body(synthesized, group.name)["widgets"]
        shown = {
            (row[1], row[5])
            for widget in widgets
            for row in _metric_rows(widget)
            if row[0] == "Greenlight" and row[2:5] == ["Group", group.name, "Stage"]
        }
        assert shown == {(m, s) for m in DEPLOYMENT_METRICS for s in group.stage_names}


def test_each_stage_shows_its_alarms_and_only_its_own(synthesized: Synthesized) -> None:
    for group in synthesized.config.model_groups:
        widgets = _body(synthesized, group.name)["widgets"]
        alarm_widgets = [w for w in widgets if "alarms" in w["properties"]]
        assert len(alarm_widgets) == len(group.stages)
        for stage, widget in zip(group.stages, alarm_widgets, strict=True):
            arns = widget["properties"]["alarms"]
            shown = {re.sub(r"^<(.+)\.Arn>$", r"\1", arn) for arn in arns}
            assert shown == _alarm_ids(synthesized, group.name, stage.name), stage.name
            assert stage.name in widget["properties"]["title"]


def test_each_stage_shows_its_endpoints_invocations_latency_and_5xx_of_the_deployed_variant(
    synthesized: Synthesized,
) -> None:
    for group in synthesized.config.model_groups:
        widgets = _body(synthesized, group.name)["widgets"]
        rows = [tuple(row[:6]) for widget in widgets for row in _metric_rows(widget)]
        for stage in group.stages:
            for metric in ("Invocations", "ModelLatency", "Invocation5XXErrors"):
                assert (
                    "AWS/SageMaker",
                    metric,
                    "EndpointName",
                    stage.endpoint_name,
                    "VariantName",
                    contract.VARIANT_NAME,
                ) in rows, (stage.name, metric)
