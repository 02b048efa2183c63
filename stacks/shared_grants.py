"""What each shared function may do, for every group at once and for nothing else.

The functions serve every group, so their roles cannot list each group's ARNs (adding a
group would change the shared stack). Each grant is scoped instead by what marks a
resource as Greenlight's:

- a name Greenlight gives: pipelines and alarms ``greenlight-*``, registry entries
  ``/greenlight/groups/*``, execution roles under the path ``/greenlight/``;
- a tag Deploy puts on what it creates (``aws:RequestTag`` on create,
  ``aws:ResourceTag`` afterwards): models, endpoint configs and endpoints carry
  ``contract.TAG_ENDPOINT``.

Reads that probe whether a resource exists (``Describe*``) cannot carry a tag condition
(IAM refuses a missing resource for lack of its tag), so they are granted on the
resource type; model package versions are registered by data scientists without a
Greenlight tag, so their actions are granted on every version, and the functions act
only on groups the registry holds.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from shared import contract
from stacks import arns
from stacks.nag import acknowledge_wildcard_resource

SAGEMAKER_SERVICE: Final = "sagemaker.amazonaws.com"
#: What the trigger does to the ledger (shared/ledger.py): read an outcome, list a
#: group's outcomes and acts, put one conditionally. Its TransactWriteItems holds only
#: Put items, and DynamoDB authorises each item of a transaction as its own PutItem.
TRIGGER_LEDGER_ACTIONS: Final = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")
#: The trigger reads a version, and writes a gate refusal back to it.
TRIGGER_PACKAGE_ACTIONS: Final = (
    "sagemaker:DescribeModelPackage",
    "sagemaker:UpdateModelPackage",
)
#: The recorder writes stage outcomes back to a version.
RECORDER_PACKAGE_ACTIONS: Final = ("sagemaker:UpdateModelPackage",)
#: The recorder appends its records with conditional puts and reads them back; it never
#: changes one it wrote.
RECORDER_LEDGER_ACTIONS: Final = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")
#: The trigger reads the pipeline's history (executions, their variables and actions,
#: the declared actions of a stage), starts a run, and on a rejection stops the run in
#: flight; these are authorized on the pipeline's ARN.
TRIGGER_PIPELINE_ACTIONS: Final = (
    "codepipeline:GetPipeline",
    "codepipeline:GetPipelineExecution",
    "codepipeline:ListPipelineExecutions",
    "codepipeline:ListActionExecutions",
    "codepipeline:StartPipelineExecution",
    "codepipeline:StopPipelineExecution",
)
#: On a rejection the trigger rolls a stage back, which IAM authorizes on the stage's
#: ARN (``<pipeline ARN>/<stage>``), not on the pipeline's.
TRIGGER_STAGE_ACTIONS: Final = ("codepipeline:RollbackStage",)
#: The recorder only reads the pipeline: variables and trigger of an execution, the
#: failing action's message, earlier executions for rollback targets.
RECORDER_PIPELINE_ACTIONS: Final = (
    "codepipeline:GetPipelineExecution",
    "codepipeline:ListActionExecutions",
    "codepipeline:ListPipelineExecutions",
)
#: How a stage action answers CodePipeline (no resource-level permissions).
JOB_RESULT_ACTIONS: Final = (
    "codepipeline:PutJobSuccessResult",
    "codepipeline:PutJobFailureResult",
)
#: The resource types Deploy creates and the cleanup deletes.
SAGEMAKER_DEPLOYED: Final = ("model", "endpoint-config", "endpoint")

_TAGGED: Final = f"aws:ResourceTag/{contract.TAG_ENDPOINT}"
_TAGGING: Final = f"aws:RequestTag/{contract.TAG_ENDPOINT}"


def _statement(
    role: iam.IRole,
    sid: str,
    actions: tuple[str, ...] | list[str],
    resources: list[str],
    conditions: dict[str, dict[str, str]] | None = None,
) -> None:
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid=sid, actions=list(actions), resources=resources, conditions=conditions
        )
    )


def _tagged(condition: str) -> dict[str, dict[str, str]]:
    """The request names (or the resource carries) Greenlight's endpoint tag."""
    return {"StringLike": {condition: "*"}}


def grant_trigger(
    role: iam.IRole, *, key: kms.IKey, ledger: dynamodb.ITable, topic: sns.ITopic
) -> None:
    _grant_event_function(
        role,
        package=("ReadAndAnnotateModelPackages", TRIGGER_PACKAGE_ACTIONS),
        pipeline=("DrivePipelines", TRIGGER_PIPELINE_ACTIONS),
        ledger_actions=TRIGGER_LEDGER_ACTIONS,
        key=key,
        ledger=ledger,
        topic=topic,
    )
    stages = f"{arns.greenlight_pipelines_arn(role)}/*"
    _statement(role, "RollBackStages", TRIGGER_STAGE_ACTIONS, [stages])
    acknowledge_wildcard_resource(
        role,
        stages,
        "On a rejection the trigger rolls back a stage of a Greenlight pipeline; stage "
        "names are each group's, under pipelines named greenlight-*.",
    )


def grant_recorder(
    role: iam.IRole, *, key: kms.IKey, ledger: dynamodb.ITable, topic: sns.ITopic
) -> None:
    _grant_event_function(
        role,
        package=("WriteBackToModelPackages", RECORDER_PACKAGE_ACTIONS),
        pipeline=("ReadPipelineHistory", RECORDER_PIPELINE_ACTIONS),
        ledger_actions=RECORDER_LEDGER_ACTIONS,
        key=key,
        ledger=ledger,
        topic=topic,
    )


def _grant_event_function(
    role: iam.IRole,
    *,
    package: tuple[str, tuple[str, ...]],
    pipeline: tuple[str, tuple[str, ...]],
    ledger_actions: tuple[str, ...],
    key: kms.IKey,
    ledger: dynamodb.ITable,
    topic: sns.ITopic,
) -> None:
    """What the trigger and the recorder both get: actions on model versions and on the
    Greenlight pipelines, the registry, the ledger, the topic and the key."""
    versions = arns.all_model_versions_arn(role)
    pipelines = arns.greenlight_pipelines_arn(role)
    registry = arns.group_registry_arn(role)
    _statement(role, package[0], package[1], [versions])
    _statement(role, pipeline[0], pipeline[1], [pipelines])
    _statement(role, "ReadGroupRegistry", ("ssm:GetParameter",), [registry])
    _acknowledge_versions(role)
    acknowledge_wildcard_resource(
        role, pipelines, "Every pipeline Greenlight creates is named greenlight-<group>."
    )
    acknowledge_wildcard_resource(
        role,
        registry,
        "Each group's stack writes its settings to /greenlight/groups/<group>; read only.",
    )
    ledger.grant(role, *ledger_actions)
    _statement(role, "Notify", ("sns:Publish",), [topic.topic_arn])
    # Encrypt and decrypt with the stack key (ledger items, topic messages).
    _statement(role, "UseStackKey", ("kms:Decrypt", "kms:GenerateDataKey"), [key.key_arn])


def grant_deploy(role: iam.IRole) -> None:
    deployed = [arns.all_of(role, kind) for kind in SAGEMAKER_DEPLOYED]
    # Deploy makes no DescribeModelPackage call itself: CreateModel from a versioned
    # package reads the package as the caller (the registry's cross-account policy
    # grants the same pair for the same reason).
    _statement(
        role,
        "ReadModelPackages",
        ("sagemaker:DescribeModelPackage",),
        [arns.all_model_versions_arn(role)],
    )
    _grant_deploying(role, deployed)
    _statement(
        role, "ListForCleanup", ("sagemaker:ListEndpointConfigs", "sagemaker:ListModels"), ["*"]
    )
    grant_reading_alarms(role)
    _statement(
        role,
        "PassModelExecutionRoles",
        ("iam:PassRole",),
        [arns.execution_roles_arn(role)],
        {"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
    )
    _grant_job_results(role)
    _acknowledge_versions(role)
    _acknowledge_deployed(role, "Deploy")
    acknowledge_wildcard_resource(
        role,
        arns.execution_roles_arn(role),
        "Deploy passes each group's execution role to SageMaker (CreateModel); those roles "
        "live under the IAM path /greenlight/, and only SageMaker may receive them.",
    )
    acknowledge_wildcard_resource(
        role,
        "*",
        "sagemaker:ListModels, sagemaker:ListEndpointConfigs and the CodePipeline job "
        "result actions have no resource-level permissions.",
    )


def _grant_deploying(role: iam.IRole, deployed: list[str]) -> None:
    """Deploy's models, configs and endpoints: probe any, create them tagged, and change
    or retire only tagged ones."""
    _statement(
        role,
        "FindDeployed",
        (
            "sagemaker:DescribeModel",
            "sagemaker:DescribeEndpointConfig",
            "sagemaker:DescribeEndpoint",
        ),
        deployed,
    )
    # CreateEndpoint is also authorized on its config, and a create with Tags also needs
    # AddTags: the request carries the tag on every one of them.
    _statement(
        role,
        "CreateTagged",
        (
            "sagemaker:CreateModel",
            "sagemaker:CreateEndpointConfig",
            "sagemaker:CreateEndpoint",
            "sagemaker:AddTags",
        ),
        deployed,
        _tagged(_TAGGING),
    )
    # UpdateEndpoint is also authorized on the new config; a Failed endpoint accepts only
    # DeleteEndpoint, and Deploy then creates it again; retention deletes old ones.
    _statement(
        role,
        "ChangeTagged",
        (
            "sagemaker:UpdateEndpoint",
            "sagemaker:DeleteEndpoint",
            "sagemaker:DeleteEndpointConfig",
            "sagemaker:DeleteModel",
        ),
        deployed,
        _tagged(_TAGGED),
    )


def grant_smoke_test(role: iam.IRole) -> None:
    endpoints = arns.all_of(role, "endpoint")
    _statement(
        role,
        "InvokeDeployedEndpoints",
        ("sagemaker:InvokeEndpoint",),
        [endpoints],
        _tagged(_TAGGED),
    )
    _grant_job_results(role)
    # The bundle is read with the job's own artifact credentials, which CodePipeline
    # issues for the input artifact: the role needs no S3 permission.
    acknowledge_wildcard_resource(
        role,
        endpoints,
        "SmokeTest invokes only endpoints Deploy created, which carry the "
        f"{contract.TAG_ENDPOINT} tag (aws:ResourceTag condition).",
    )
    acknowledge_wildcard_resource(
        role, "*", "The CodePipeline job result actions have no resource-level permissions."
    )


def grant_bake(role: iam.IRole) -> None:
    grant_reading_alarms(role)
    _grant_job_results(role)
    acknowledge_wildcard_resource(
        role, "*", "The CodePipeline job result actions have no resource-level permissions."
    )


def grant_endpoint_cleanup(role: iam.IRole) -> None:
    deployed = [arns.all_of(role, kind) for kind in SAGEMAKER_DEPLOYED]
    # The cleanup looks an endpoint up before deleting it: a missing one has no tag, and
    # IAM would refuse its DeleteEndpoint rather than answer that it does not exist.
    _statement(role, "FindEndpoints", ("sagemaker:DescribeEndpoint",), [deployed[2]])
    _statement(
        role,
        "DeleteTagged",
        ("sagemaker:DeleteEndpoint", "sagemaker:DeleteEndpointConfig", "sagemaker:DeleteModel"),
        deployed,
        _tagged(_TAGGED),
    )
    _statement(
        role, "ListForCleanup", ("sagemaker:ListEndpointConfigs", "sagemaker:ListModels"), ["*"]
    )
    _acknowledge_deployed(role, "The cleanup")
    acknowledge_wildcard_resource(
        role,
        "*",
        "sagemaker:ListEndpointConfigs and sagemaker:ListModels are list actions with no "
        "resource-level permissions; the cleanup filters by the endpoint name prefix.",
    )


def grant_reading_alarms(role: iam.IRole) -> None:
    """DescribeAlarms on every alarm Greenlight names, in the role's own account."""
    alarms = arns.greenlight_alarms_arn(role)
    _statement(role, "ReadStageAlarms", ("cloudwatch:DescribeAlarms",), [alarms])
    acknowledge_wildcard_resource(
        role,
        alarms,
        "Every stage alarm Greenlight creates is named greenlight-<group>-…; read only.",
    )


def _grant_job_results(role: iam.IRole) -> None:
    _statement(role, "AnswerPipelineJobs", JOB_RESULT_ACTIONS, ["*"])


def _acknowledge_versions(role: iam.IRole) -> None:
    acknowledge_wildcard_resource(
        role,
        arns.all_model_versions_arn(role),
        "Data scientists register versions in groups Greenlight may not have created, "
        "with no Greenlight tag; the shared functions act only on the groups in the "
        "group registry.",
    )


def _acknowledge_deployed(role: iam.IRole, who: str) -> None:
    for kind in SAGEMAKER_DEPLOYED:
        acknowledge_wildcard_resource(
            role,
            arns.all_of(role, kind),
            f"{who} changes only a {kind} that carries the {contract.TAG_ENDPOINT} tag "
            "Deploy puts on what it creates (aws:RequestTag / aws:ResourceTag conditions); "
            "Describe probes whether one exists and is read only.",
        )
