"""The custom resource that deletes a group's endpoints on ``cdk destroy``
(``lambdas/endpoint_cleanup``).

Deploy creates the endpoints at run time, so CloudFormation does not know them. Each
group's stack holds one resource that names them; when it is deleted (after the
pipeline, which depends on it), the shared handler deletes each endpoint with the
endpoint configs and models Deploy made for it, unless the group's configuration says
``retainEndpointsOnDestroy``. The handler and its provider framework are built once, in
the shared stack (:class:`EndpointCleanupProvider`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from shared import contract
from shared.stage_access import StageTarget
from stacks.lambda_function import LOG_RETENTION, GreenlightFunction
from stacks.nag import acknowledge_wildcard_resource

RESOURCE_TYPE: Final = "Custom::GreenlightEndpointCleanup"


class EndpointCleanupProvider(Construct):
    """Exposes ``function`` (the onEvent handler), ``provider`` (its ``service_token``
    is what each group's resource names) and ``framework_role``."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.function = GreenlightFunction(
            self,
            "Function",
            handler_module="endpoint_cleanup",
            description="delete a group's endpoints when its stack is deleted",
            environment={},
            key=key,
            # Deleting is a few calls per endpoint; DeleteEndpoint is not waited for.
            timeout=Duration.minutes(5),
            memory_size=128,
        )
        # The framework function gets a role and a log group like every Greenlight
        # function: no managed policy, logs encrypted and kept 3 months.
        self.framework_role = iam.Role(
            self,
            "FrameworkRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Greenlight: relays the endpoint cleanup custom resources",
        )
        framework_logs = logs.LogGroup(
            self,
            "FrameworkLogs",
            retention=LOG_RETENTION,
            encryption_key=key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        framework_logs.grant_write(self.framework_role)
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.function.function,
            framework_on_event_role=self.framework_role,
            log_group=framework_logs,
            provider_function_env_encryption=key,
        )
        acknowledge_wildcard_resource(
            self.framework_role,
            f"{self.function.function.function_arn}:*",
            "The provider framework's invoke grant also covers the versions and aliases of "
            "the endpoint cleanup function; it names that one function only.",
        )


def endpoint_cleanup(
    scope: Construct,
    construct_id: str,
    *,
    service_token: str,
    group: str,
    endpoint_names: tuple[str, ...],
    retain_endpoints: bool,
    stage_targets: Mapping[str, StageTarget] | None = None,
) -> CustomResource:
    """The group's resource: its endpoints, deleted with the stack unless retained;
    ``stage_targets``: endpoint name → how to reach it, for the endpoints of stages in
    other accounts."""
    return CustomResource(
        scope,
        construct_id,
        service_token=service_token,
        resource_type=RESOURCE_TYPE,
        properties={
            contract.PROP_GROUP_NAME: group,
            contract.PROP_ENDPOINT_NAMES: list(endpoint_names),
            # CloudFormation hands every property to the handler as a string.
            contract.PROP_RETAIN_ENDPOINTS: "true" if retain_endpoints else "false",
            **(
                {
                    contract.PROP_STAGE_TARGETS: {
                        name: target.to_parameters() for name, target in stage_targets.items()
                    }
                }
                if stage_targets
                else {}
            ),
        },
    )
