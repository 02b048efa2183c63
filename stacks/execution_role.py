"""The role SageMaker assumes to run a group's models: pull the image, read the model data
(the configured buckets, and decrypt with the configured KMS keys), write logs and metrics."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from shared.config import ModelGroupConfig
from stacks.nag import acknowledge_wildcard_resource


class ModelExecutionRole(Construct):
    """Exposes ``role``: either created here or the configured ARN."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ModelGroupConfig,
        role_name: str | None = None,
        endpoint_names: tuple[str, ...] | None = None,
    ) -> None:
        """``role_name`` names a role other stacks refer to (e.g. across accounts);
        ``endpoint_names`` are the endpoints it runs (default: every stage's)."""
        super().__init__(scope, construct_id)
        self._created: iam.Role | None = None
        if config.model_execution_role_arn is not None:
            self.role: iam.IRole = iam.Role.from_role_arn(
                self, "Configured", config.model_execution_role_arn, mutable=False
            )
            return
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            role_name=role_name,
            description=f"Runs the models of the {config.name} model package group",
        )
        ecr_repositories = stack.format_arn(
            service="ecr", account="*", resource="repository", resource_name="*"
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PullInferenceImages",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=[ecr_repositories],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]
            )
        )
        log_groups = [
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=f"/aws/sagemaker/Endpoints/{endpoint}",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for endpoint in (config.endpoint_names if endpoint_names is None else endpoint_names)
        ]
        log_streams = [f"{log_group}:log-stream:*" for log_group in log_groups]
        if log_groups:  # none when every stage of the group runs in another account
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="EndpointLogs",
                    actions=[
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogStreams",
                    ],
                    resources=log_groups + log_streams,
                )
            )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="EndpointMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}},
            )
        )
        _grant_model_data(role, config)
        self.role = role
        self._created = role
        acknowledge_wildcard_resource(
            role,
            ecr_repositories,
            "Each registered version names its own inference image, in any repository and "
            "often in an AWS-owned account (e.g. the built-in linear-learner image); only "
            "image pull actions are granted.",
        )
        acknowledge_wildcard_resource(
            role,
            "*",
            "ecr:GetAuthorizationToken has no resource-level permissions, and "
            "cloudwatch:PutMetricData is held to the /aws/sagemaker/Endpoints namespace by "
            "its condition.",
        )
        for stream in log_streams:
            acknowledge_wildcard_resource(
                role,
                stream,
                "SageMaker names the log streams of this endpoint's log group after the "
                "instances it starts, at run time.",
            )

    def allow_reading_alarms(self, alarm_arns: list[str]) -> None:
        """Deployment guardrails read the auto-rollback alarms with this role
        (``cloudwatch:DescribeAlarms``, per SageMaker's deployment-guardrails page). A
        configured role is the platform team's to grant."""
        if self._created is None or not alarm_arns:
            return
        self._created.add_to_policy(
            iam.PolicyStatement(
                sid="ReadAutoRollbackAlarms",
                actions=["cloudwatch:DescribeAlarms"],
                resources=alarm_arns,
            )
        )


def _grant_model_data(role: iam.Role, config: ModelGroupConfig) -> None:
    """SageMaker downloads a version's artifacts with this role (CreateModel's
    ``ExecutionRoleArn``): read on the configured buckets, and ``kms:Decrypt`` on the
    configured keys for objects S3 decrypts with them (docs/aws-behaviour.md, SageMaker)."""
    stack = Stack.of(role)
    buckets = [f"arn:{stack.partition}:s3:::{bucket}" for bucket in config.model_data_buckets]
    objects = [f"{bucket}/*" for bucket in buckets]
    if buckets:
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadModelArtifacts", actions=["s3:GetObject"], resources=objects
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListModelArtifacts", actions=["s3:ListBucket"], resources=buckets
            )
        )
    if config.model_data_kms_key_arns:
        role.add_to_policy(
            iam.PolicyStatement(
                sid="DecryptModelArtifacts",
                actions=["kms:Decrypt"],
                resources=list(config.model_data_kms_key_arns),
                conditions={"StringEquals": {"kms:ViaService": _s3_in_regions_of(config, stack)}},
            )
        )
    for bucket, bucket_objects in zip(config.model_data_buckets, objects, strict=True):
        acknowledge_wildcard_resource(
            role,
            bucket_objects,
            f"Model artifacts live under version-specific keys of {bucket}, a bucket the "
            "configuration names as holding this group's model data; read only.",
        )


def _s3_in_regions_of(config: ModelGroupConfig, stack: Stack) -> list[str] | str:
    """S3 decrypts an object with its key in the key's (and bucket's) region, which for a
    stage in another account is the key's region, not the stack's."""
    regions = sorted({arn.split(":")[3] for arn in config.model_data_kms_key_arns})
    if Token.is_unresolved(stack.region) or regions in ([stack.region], []):
        return f"s3.{stack.region}.amazonaws.com"
    return [f"s3.{region}.amazonaws.com" for region in regions]
