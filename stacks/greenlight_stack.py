"""The ``Greenlight`` stack: shared stores plus one construct per model package group."""

from __future__ import annotations

import re

from aws_cdk import ArnFormat, CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from shared import contract
from shared.config import GreenlightConfig
from stacks.model_group import GreenlightModelGroup
from stacks.nag import acknowledge

STACK_NAME = contract.STACK_NAME


def construct_id_for(group: str) -> str:
    """A construct id from a group name (ids must not contain ``/``)."""
    return "Group-" + re.sub(r"[^A-Za-z0-9-]", "-", group)


class GreenlightStack(Stack):
    """Exposes ``key``, ``ledger``, ``topic``, ``access_logs`` and ``groups`` (by name)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: GreenlightConfig, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.key = kms.Key(
            self,
            "Key",
            description="Greenlight: ledger, notifications, function logs and environment",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch Logs encrypts the functions' log groups with the key.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogs",
                principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": self.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        self.ledger = dynamodb.Table(
            self,
            "Ledger",
            partition_key=dynamodb.Attribute(
                name=contract.LEDGER_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(
                name=contract.LEDGER_SORT_KEY, type=dynamodb.AttributeType.STRING
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.topic = sns.Topic(
            self,
            "Notifications",
            display_name="Greenlight",
            master_key=self.key,
            enforce_ssl=True,
        )
        for email in config.notification_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This bucket is the server access log destination of the pipeline "
            "artifact buckets; logging it into itself would loop.",
        )
        self.groups = {
            group.name: GreenlightModelGroup(
                self,
                construct_id_for(group.name),
                config=group,
                key=self.key,
                ledger=self.ledger,
                topic=self.topic,
                access_logs=self.access_logs,
                app_config=config,
            )
            for group in config.model_groups
        }
        self._outputs()

    @property
    def stage_roles(self) -> list[iam.IRole]:
        """The roles of the functions that act on stages, of every group with a stage in
        another account: what a target stack's deployment role trusts."""
        return [
            role for group in self.groups.values() if group.remote for role in group.stage_roles
        ]

    def _outputs(self) -> None:
        """What the ``greenlight`` CLI reads from the deployed stack."""
        CfnOutput(
            self,
            contract.OUTPUT_LEDGER_TABLE,
            value=self.ledger.table_name,
            description="The Greenlight ledger (DynamoDB table name)",
        )
        CfnOutput(
            self,
            contract.OUTPUT_TOPIC_ARN,
            value=self.topic.topic_arn,
            description="The Greenlight notifications topic",
        )
        owners: dict[str, str] = {}
        for name, group in self.groups.items():
            output_id = contract.pipeline_output_id(name)
            if output_id in owners:
                raise ValueError(
                    f"groups {owners[output_id]!r} and {name!r} both name the stack output "
                    f"{output_id}; rename one of them"
                )
            owners[output_id] = name
            CfnOutput(
                self,
                output_id,
                value=group.pipeline.pipeline.pipeline_name,
                description=f"The CodePipeline that deploys the {name} model package group",
            )
