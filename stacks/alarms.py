"""The CloudWatch alarms of one stage endpoint.

The same alarms are the deployment guardrail's AutoRollbackConfiguration and what the
Bake action watches, so their names come from ``contract.alarm_name``.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from shared import contract
from shared.config import AlarmsConfig, StageConfig

NAMESPACE = "AWS/SageMaker"
MICROSECONDS_PER_MS = 1000


class StageAlarms(Construct):
    """Exposes ``alarms`` (in a stable order) and ``alarm_names``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, group: str, stage: StageConfig
    ) -> None:
        super().__init__(scope, construct_id)
        self._group = group
        self._stage = stage
        self.alarms: list[cloudwatch.Alarm] = [
            self._alarm(*spec) for spec in _alarm_specs(stage.alarms)
        ]
        self.alarm_names: tuple[str, ...] = stage_alarm_names(group, stage)

    def _alarm(
        self, metric_key: str, metric_name: str, threshold: float, what: str
    ) -> cloudwatch.Alarm:
        group, stage, settings = self._group, self._stage, self._stage.alarms
        metric = cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=metric_name,
            dimensions_map={
                "EndpointName": stage.endpoint_name,
                "VariantName": contract.VARIANT_NAME,
            },
            statistic="Average",
            period=Duration.minutes(1),
        )
        return cloudwatch.Alarm(
            self,
            metric_key,
            alarm_name=contract.alarm_name(group, stage.name, metric_key),
            alarm_description=f"Greenlight {group}/{stage.name}: {what}",
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=settings.evaluation_periods,
            datapoints_to_alarm=settings.datapoints_to_alarm,
            # No traffic is not an error: an idle endpoint must not roll back.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )


def _alarm_specs(settings: AlarmsConfig) -> list[tuple[str, str, float, str]]:
    """(key, metric, threshold, description) of each alarm a stage's settings ask for."""
    specs: list[tuple[str, str, float, str]] = [
        (
            "5xx",
            "Invocation5XXErrors",
            settings.error_rate_5xx,
            f"5XX error rate above {settings.error_rate_5xx}",
        ),
        # ModelLatency is reported in microseconds.
        (
            "latency",
            "ModelLatency",
            settings.model_latency_ms * MICROSECONDS_PER_MS,
            f"average model latency above {settings.model_latency_ms} ms",
        ),
    ]
    if settings.error_rate_4xx is not None:
        specs.append(
            (
                "4xx",
                "Invocation4XXErrors",
                settings.error_rate_4xx,
                f"4XX error rate above {settings.error_rate_4xx}",
            )
        )
    return specs


def stage_alarm_names(group: str, stage: StageConfig) -> tuple[str, ...]:
    """The names of a stage's alarms, wherever they are created (a stage in another
    account has them in its target stack)."""
    keys = ["5xx", "latency"] + (["4xx"] if stage.alarms.error_rate_4xx is not None else [])
    return tuple(contract.alarm_name(group, stage.name, key) for key in keys)
