"""The role SageMaker assumes to run a group's models: pull the image, read the model data
(the configured buckets, and decrypt with the configured KMS keys), write logs and
metrics, and read the stage alarms its deployment guardrails roll back on.

The policy is inline (one resource per group), and the role lives under the IAM path
``contract.EXECUTION_ROLE_PATH``: the shared Deploy may pass only roles there."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from shared import contract
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
        alarm_arns: list[str],
        role_name: str | None = None,
        endpoint_names: tuple[str, ...] | None = None,
    ) -> None:
        """``role_name`` names a role other stacks refer to (across accounts);
        ``endpoint_names`` are the endpoints it runs (default: every stage's)."""
        super().__init__(scope, construct_id)
        if config.model_execution_role_arn is not None:
            self.role: iam.IRole = iam.Role.from_role_arn(
                self, "Configured", config.model_execution_role_arn, mutable=False
            )
            return
        stack = Stack.of(self)
        policy = iam.PolicyDocument()
        ecr_repositories = _grant_images(policy, stack)
        endpoints = config.endpoint_names if endpoint_names is None else endpoint_names
        log_streams = _grant_logs_and_metrics(policy, stack, endpoints)
        model_data = _grant_model_data(policy, stack, config)
        if alarm_arns:
            # Deployment guardrails read the auto-rollback alarms with this role
            # (cloudwatch:DescribeAlarms, per SageMaker's deployment-guardrails page). A
            # configured role is the platform team's to grant.
            policy.add_statements(
                iam.PolicyStatement(
                    sid="ReadAutoRollbackAlarms",
                    actions=["cloudwatch:DescribeAlarms"],
                    resources=alarm_arns,
                )
            )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            role_name=role_name,
            description=f"Runs the models of the {config.name} model package group",
            path=contract.EXECUTION_ROLE_PATH,
            inline_policies={"ModelExecution": policy},
        )
        self.role = role
        _acknowledge(role, ecr_repositories, log_streams, model_data)


def _grant_images(policy: iam.PolicyDocument, stack: Stack) -> str:
    """Pull any inference image; answers the wildcard ARN of the repositories."""
    ecr_repositories = stack.format_arn(
        service="ecr", account="*", resource="repository", resource_name="*"
    )
    policy.add_statements(
        iam.PolicyStatement(
            sid="PullInferenceImages",
            actions=[
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            resources=[ecr_repositories],
        ),
        iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
    )
    return ecr_repositories


def _grant_logs_and_metrics(
    policy: iam.PolicyDocument, stack: Stack, endpoints: tuple[str, ...]
) -> list[str]:
    """Each stage endpoint's log group (none when every stage runs in another account)
    and the endpoint metrics; answers the log streams' wildcard ARNs."""
    log_groups = [
        stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/sagemaker/Endpoints/{endpoint}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        for endpoint in endpoints
    ]
    log_streams = [f"{log_group}:log-stream:*" for log_group in log_groups]
    if log_groups:
        policy.add_statements(
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
    policy.add_statements(
        iam.PolicyStatement(
            sid="EndpointMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}},
        ),
    )
    return log_streams


def _acknowledge(
    role: iam.Role,
    ecr_repositories: str,
    log_streams: list[str],
    model_data: list[tuple[str, str]],
) -> None:
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
    for bucket, bucket_objects in model_data:
        acknowledge_wildcard_resource(
            role,
            bucket_objects,
            f"Model artifacts live under version-specific keys of {bucket}, a bucket the "
            "configuration names as holding this group's model data; read only.",
        )


def _grant_model_data(
    policy: iam.PolicyDocument, stack: Stack, config: ModelGroupConfig
) -> list[tuple[str, str]]:
    """SageMaker downloads a version's artifacts with this role (CreateModel's
    ``ExecutionRoleArn``): read on the configured buckets, and ``kms:Decrypt`` on the
    configured keys for objects S3 decrypts with them (docs/aws-behaviour.md, SageMaker).
    Answers each bucket with the wildcard ARN of its objects."""
    buckets = [f"arn:{stack.partition}:s3:::{bucket}" for bucket in config.model_data_buckets]
    objects = [f"{bucket}/*" for bucket in buckets]
    if buckets:
        policy.add_statements(
            iam.PolicyStatement(
                sid="ReadModelArtifacts", actions=["s3:GetObject"], resources=objects
            )
        )
        policy.add_statements(
            iam.PolicyStatement(
                sid="ListModelArtifacts", actions=["s3:ListBucket"], resources=buckets
            )
        )
    if config.model_data_kms_key_arns:
        policy.add_statements(
            iam.PolicyStatement(
                sid="DecryptModelArtifacts",
                actions=["kms:Decrypt"],
                resources=list(config.model_data_kms_key_arns),
                conditions={"StringEquals": {"kms:ViaService": _s3_in_regions_of(config, stack)}},
            )
        )
    return list(zip(config.model_data_buckets, objects, strict=True))


def _s3_in_regions_of(config: ModelGroupConfig, stack: Stack) -> list[str] | str:
    """S3 decrypts an object with its key in the key's (and bucket's) region, which for a
    stage in another account is the key's region, not the stack's."""
    regions = sorted({arn.split(":")[3] for arn in config.model_data_kms_key_arns})
    if Token.is_unresolved(stack.region) or regions in ([stack.region], []):
        return f"s3.{stack.region}.amazonaws.com"
    return [f"s3.{region}.amazonaws.com" for region in regions]
