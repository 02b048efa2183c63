"""One helper for the defaults every Greenlight Lambda function shares."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aws_cdk import Aws, Duration, PhysicalName, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.nag import acknowledge

#: The one Lambda asset: the whole lambdas/ folder, handlers are "<function>.handler.handler".
LAMBDAS_DIR: Final = Path(__file__).resolve().parent.parent / "lambdas"
ASSET_EXCLUDE: Final = ["**/__pycache__", "**/*.pyc", "**/.mypy_cache", "**/.pytest_cache"]

RUNTIME: Final = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE: Final = lambda_.Architecture.ARM_64
LOG_RETENTION: Final = logs.RetentionDays.THREE_MONTHS
DEFAULT_TIMEOUT: Final = Duration.seconds(60)

#: Powertools for AWS Lambda (Python), from the layer AWS publishes in every commercial
#: region: the release pinned in pyproject.toml's dev extra is the layer's version 6
#: (https://github.com/aws-powertools/powertools-lambda-python/pull/5869, "v3.4.1 ...
#: creates the layer version 6 in x86_64 and arm64"). Change both together.
POWERTOOLS_VERSION: Final = "3.4.1"
POWERTOOLS_LAYER_VERSION: Final = 6
POWERTOOLS_LAYER_ACCOUNT: Final = "017000801446"


def powertools_layer_name() -> str:
    """``AWSLambdaPowertoolsPythonV3-python312-arm64``: for RUNTIME and ARCHITECTURE."""
    python = RUNTIME.name.replace(".", "")
    return f"AWSLambdaPowertoolsPythonV3-{python}-{ARCHITECTURE.name}"


def powertools_layer_arn() -> str:
    """The pinned layer version's ARN in the stack's partition and region (a token)."""
    return (
        f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"{powertools_layer_name()}:{POWERTOOLS_LAYER_VERSION}"
    )


class GreenlightFunction(Construct):
    """A Python 3.12 ARM function with its own role and its own encrypted log group, and
    the Powertools layer.

    The role starts empty: the caller grants exactly what the function needs.
    Exposes ``function``, ``role`` and ``log_group``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler_module: str,
        description: str,
        environment: dict[str, str],
        key: kms.IKey,
        timeout: Duration = DEFAULT_TIMEOUT,
        memory_size: int = 256,
        reserved_concurrent_executions: int | None = None,
        dead_letter_queue_enabled: bool = False,
        **function_props: object,
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = self._role(description)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=LOG_RETENTION,
            encryption_key=key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.function = lambda_.Function(
            self,
            "Function",
            code=lambda_.Code.from_asset(str(LAMBDAS_DIR), exclude=ASSET_EXCLUDE),
            handler=f"{handler_module}.handler.handler",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            description=description,
            role=self.role,
            environment=environment,
            environment_encryption=key,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            layers=[
                lambda_.LayerVersion.from_layer_version_arn(
                    self, "Powertools", powertools_layer_arn()
                )
            ],
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrent_executions,
            **function_props,  # type: ignore[arg-type]
        )
        # The function writes its logs through the log group's own grant; no
        # AWSLambdaBasicExecutionRole managed policy.
        self.log_group.grant_write(self.role)
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            f"{handler_module} is written and tested for Python 3.12; the runtime is pinned "
            "in RUNTIME so every Greenlight function moves to a newer one together, after "
            "the suites pass on it.",
        )

    def _role(self, description: str) -> iam.Role:
        """An empty role only Lambda assumes; the caller grants what the function needs."""
        return iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            # A target stack in another account trusts this role by its ARN: CDK names it
            # then (and only then), so the ARN is known in both templates.
            role_name=PhysicalName.GENERATE_IF_NEEDED,
            description=f"Greenlight {description}",
        )
