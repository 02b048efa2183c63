"""The shared ``Greenlight`` stack: stores, functions and roles that serve every group.

It holds the key, the ledger, the notification topic, the pipelines' artifact bucket,
and the six functions (approval trigger, Deploy, SmokeTest, Bake, recorder, endpoint
cleanup) with their roles, log groups and queues. Nothing in it depends on which groups
exist: each group's stack (``stacks/group_stack.py``) imports what it uses by export
name (``stacks/shared_refs.py``) and registers the group in the group registry.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from shared import contract
from stacks import shared_grants
from stacks.accounts import grant_assume_stage_roles
from stacks.action_functions import action_functions
from stacks.approval_trigger import APPROVAL_TRIGGER
from stacks.endpoint_cleanup import EndpointCleanupProvider
from stacks.event_driven_function import EventDrivenFunction, subscribe
from stacks.nag import acknowledge
from stacks.recorder import RECORDER, RULE_DESCRIPTION, recorder_pattern
from stacks.shared_refs import SharedRefs

STACK_NAME = contract.STACK_NAME

#: How long the pipelines keep their artifacts. A stage rollback reuses the artifacts of
#: the execution it targets, and any execution CodePipeline still lists (its history is
#: kept 12 months) may be a target; the artifacts are a small zip each, so they stay a
#: month longer than that history.
ARTIFACT_RETENTION = Duration.days(400)


class GreenlightStack(Stack):
    """Exposes ``key``, ``ledger``, ``topic``, ``access_logs``, ``artifacts``,
    ``trigger``, ``recorder``, ``recorder_rule``, ``actions`` (by action name),
    ``endpoint_cleanup`` and ``refs`` (what the group stacks import)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        notification_emails: tuple[str, ...],
        stage_role_arns: tuple[str, ...] = (),
        **kwargs: object,
    ) -> None:
        """``stage_role_arns``: the deployment roles of the target accounts, which the
        stage functions may assume."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.key = self._key()
        self._stores(notification_emails)
        self._buckets()
        self._functions()
        for role in self.stage_roles:
            grant_assume_stage_roles(role, stage_role_arns)
        self.refs = self._refs()
        self.refs.export(self)
        self._outputs()

    @property
    def stage_roles(self) -> list[iam.IRole]:
        """The roles of the functions that act on stages (Deploy, SmokeTest, Bake and the
        endpoint cleanup): what a target stack's deployment role trusts."""
        return [
            *(self.actions[action].role for action in contract.STAGE_ACTIONS),
            self.endpoint_cleanup.function.role,
        ]

    def _key(self) -> kms.Key:
        """The one key: ledger, notifications, function logs and environments."""
        key = kms.Key(
            self,
            "Key",
            description="Greenlight: ledger, notifications, function logs and environment",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch Logs encrypts the functions' log groups with the key.
        key.add_to_resource_policy(
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
        return key

    def _stores(self, notification_emails: tuple[str, ...]) -> None:
        """The ledger and the notification topic (with its email subscriptions)."""
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
        for email in notification_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

    def _buckets(self) -> None:
        """The pipelines' artifact bucket, and the bucket its access logs go to."""
        self.access_logs = _private_bucket(self, "AccessLogs")
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This bucket is the server access log destination of the pipelines' "
            "artifact bucket; logging it into itself would loop.",
        )
        self.artifacts = _private_bucket(
            self,
            "Artifacts",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="artifacts/",
            lifecycle_rules=[s3.LifecycleRule(expiration=ARTIFACT_RETENTION)],
        )

    def _refs(self) -> SharedRefs:
        """What the group stacks import, whatever the groups are."""
        return SharedRefs(
            key_arn=self.key.key_arn,
            topic_arn=self.topic.topic_arn,
            artifact_bucket_arn=self.artifacts.bucket_arn,
            trigger_function_arn=self.trigger.function.function.function_arn,
            trigger_dead_letter_queue_arn=self.trigger.rule_dead_letter_queue.queue_arn,
            deploy_function_arn=self.actions[contract.ACTION_DEPLOY].function.function_arn,
            smoke_test_function_arn=self.actions[contract.ACTION_SMOKE_TEST].function.function_arn,
            bake_function_arn=self.actions[contract.ACTION_BAKE].function.function_arn,
            endpoint_cleanup_service_token=self.endpoint_cleanup.provider.service_token,
        )

    def _functions(self) -> None:
        """The six functions, each with its own role, granted for every group at once."""
        stores = {
            contract.ENV_LEDGER_TABLE: self.ledger.table_name,
            contract.ENV_TOPIC_ARN: self.topic.topic_arn,
        }
        self.trigger = EventDrivenFunction(
            self, "ApprovalTrigger", subscription=APPROVAL_TRIGGER, key=self.key, environment=stores
        )
        self.recorder = EventDrivenFunction(
            self, "Recorder", subscription=RECORDER, key=self.key, environment=stores
        )
        # One permission for every group's approval rule: a statement per group would
        # outgrow the function's 20 KB resource policy long before a hundred groups.
        self.trigger.function.function.add_permission(
            "ApprovalRules",
            principal=iam.ServicePrincipal("events.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_arn=self.format_arn(
                service="events",
                resource="rule",
                resource_name=contract.approval_rule_name("*"),
            ),
            source_account=self.account,
        )
        self.recorder_rule = subscribe(
            self.recorder,
            "Rule",
            rule_name=contract.RECORDER_RULE_NAME,
            description=RULE_DESCRIPTION,
            event_pattern=recorder_pattern(),
            function=self.recorder.function.function,
            rule_dead_letter_queue=self.recorder.rule_dead_letter_queue,
        )
        self.actions = action_functions(self, prefix="", environment={}, key=self.key)
        self.endpoint_cleanup = EndpointCleanupProvider(self, "EndpointCleanup", key=self.key)
        for grant, function in (
            (shared_grants.grant_trigger, self.trigger),
            (shared_grants.grant_recorder, self.recorder),
        ):
            grant(function.function.role, key=self.key, ledger=self.ledger, topic=self.topic)
        shared_grants.grant_deploy(self.actions[contract.ACTION_DEPLOY].role)
        shared_grants.grant_smoke_test(self.actions[contract.ACTION_SMOKE_TEST].role)
        shared_grants.grant_bake(self.actions[contract.ACTION_BAKE].role)
        shared_grants.grant_endpoint_cleanup(self.endpoint_cleanup.function.role)

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


def _private_bucket(scope: Construct, construct_id: str, **props: Any) -> s3.Bucket:
    """A bucket encrypted at rest, reachable over TLS only and never public."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        **props,
    )
