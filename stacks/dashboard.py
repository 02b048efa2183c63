"""One CloudWatch dashboard per model package group: deployment health at a glance.

A row per stage: the deployment counts the recorder emits (``contract.METRIC_*``, see
``lambdas/recorder/metrics.py``), lead time and time to restore, the stage's alarms
(the guardrail's and Bake's), and the endpoint's invocations, model latency and 5XX
errors from ``AWS/SageMaker``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from shared import contract
from shared.config import ModelGroupConfig, StageConfig
from stacks.alarms import NAMESPACE as SAGEMAKER_NAMESPACE
from stacks.alarms import StageAlarms

#: Deployment counts over a day; times and endpoint metrics over five minutes.
COUNT_PERIOD: Final = Duration.days(1)
PERIOD: Final = Duration.minutes(5)
WIDTH: Final = 6
HEIGHT: Final = 6


def dashboard_name(group: str) -> str:
    return f"greenlight-{group}"


class GroupDashboard(Construct):
    """Exposes ``dashboard``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ModelGroupConfig,
        alarms: dict[str, StageAlarms],
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name(config.name),
            default_interval=Duration.days(7),
        )
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    f"# Greenlight: {config.name}\n"
                    "Deployments per stage (the recorder's metrics), the stage alarms "
                    "that roll a version back, and the stage endpoints."
                ),
                width=4 * WIDTH,
                height=2,
            )
        )
        for stage in config.stages:
            self.dashboard.add_widgets(*_stage_row(config.name, stage, alarms[stage.name].alarms))


def _stage_row(
    group: str, stage: StageConfig, alarms: Sequence[cloudwatch.IAlarm]
) -> list[cloudwatch.IWidget]:
    return [
        cloudwatch.GraphWidget(
            title=f"{stage.name}: deployments",
            left=[
                _deployment_metric(group, stage.name, name, "Sum", COUNT_PERIOD)
                for name in contract.DEPLOYMENT_COUNT_METRICS
            ],
            view=cloudwatch.GraphWidgetView.BAR,
            width=WIDTH,
            height=HEIGHT,
        ),
        cloudwatch.GraphWidget(
            title=f"{stage.name}: lead time and time to restore (s)",
            left=[
                _deployment_metric(group, stage.name, name, "Average", PERIOD)
                for name in contract.DEPLOYMENT_TIME_METRICS
            ],
            width=WIDTH,
            height=HEIGHT,
        ),
        cloudwatch.AlarmStatusWidget(
            title=f"{stage.name}: alarms", alarms=list(alarms), width=WIDTH, height=HEIGHT
        ),
        cloudwatch.GraphWidget(
            title=f"{stage.name}: endpoint {stage.endpoint_name}",
            left=[
                _endpoint_metric(stage, "Invocations", "Sum"),
                _endpoint_metric(stage, "Invocation5XXErrors", "Sum"),
            ],
            right=[_endpoint_metric(stage, "ModelLatency", "Average")],
            right_y_axis=cloudwatch.YAxisProps(label="model latency (µs)", show_units=False),
            width=WIDTH,
            height=HEIGHT,
        ),
    ]


def _deployment_metric(
    group: str, stage: str, name: str, statistic: str, period: Duration
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=contract.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={
            contract.METRIC_DIMENSION_GROUP: group,
            contract.METRIC_DIMENSION_STAGE: stage,
        },
        statistic=statistic,
        period=period,
        label=name,
    )


def _endpoint_metric(stage: StageConfig, name: str, statistic: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=SAGEMAKER_NAMESPACE,
        metric_name=name,
        dimensions_map={
            "EndpointName": stage.endpoint_name,
            "VariantName": contract.VARIANT_NAME,
        },
        statistic=statistic,
        period=PERIOD,
        label=name,
    )
