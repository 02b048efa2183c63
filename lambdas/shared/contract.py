"""Names that the stacks, the Lambda functions, the sandbox and the CLI must agree on.

The CDK code writes these names into the templates; the runtime code reads them back.
Keeping them in one module means a rename cannot leave one side behind.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mypy_boto3_codepipeline.type_defs import PipelineVariableTypeDef

# --- CodePipeline -------------------------------------------------------------------

#: Pipeline variables. ``ModelPackageArn`` is the exact version a reviewer approved
#: (DESIGN rule 1); it travels from the trigger to every action through
#: ``#{variables.ModelPackageArn}``.
VAR_MODEL_PACKAGE_ARN: Final = "ModelPackageArn"
VAR_MODEL_PACKAGE_VERSION: Final = "ModelPackageVersion"
#: Why the execution started: one of TRIGGER_REASONS.
VAR_TRIGGER_REASON: Final = "TriggerReason"
#: The EventBridge event id (or CLI request id) that started the execution.
VAR_REQUEST_ID: Final = "RequestId"

#: The ModelPackageArn default: what an execution nobody gave a version carries (the one
#: CodePipeline starts when it creates the pipeline, a console "Release change"). Such an
#: execution deploys nothing.
NO_MODEL_VERSION: Final = "none"


def is_model_version(arn: str) -> bool:
    """True when ``arn`` names a model package version (not :data:`NO_MODEL_VERSION`)."""
    return arn.startswith("arn:") and ":model-package/" in arn


PIPELINE_VARIABLES: Final = (
    VAR_MODEL_PACKAGE_ARN,
    VAR_MODEL_PACKAGE_VERSION,
    VAR_TRIGGER_REASON,
    VAR_REQUEST_ID,
)


def execution_variables(
    *, arn: str, version: str, trigger_reason: str, request_id: str
) -> list[PipelineVariableTypeDef]:
    """StartPipelineExecution's ``variables`` for an execution that deploys ``arn``."""
    values = (arn, version, trigger_reason, request_id)
    return [
        {"name": name, "value": value}
        for name, value in zip(PIPELINE_VARIABLES, values, strict=True)
    ]


REASON_APPROVAL: Final = "approval"
REASON_REDEPLOY: Final = "redeploy"
REASON_REJECTION_ROLLBACK: Final = "rejection-rollback"
REASON_MANUAL_ROLLBACK: Final = "manual-rollback"
TRIGGER_REASONS: Final = (
    REASON_APPROVAL,
    REASON_REDEPLOY,
    REASON_REJECTION_ROLLBACK,
    REASON_MANUAL_ROLLBACK,
)

SOURCE_STAGE: Final = "Source"
SOURCE_ACTION: Final = "Bundle"
SOURCE_ARTIFACT: Final = "Bundle"
#: The file inside the source bundle zip that holds every stage's settings.
BUNDLE_FILE: Final = "greenlight-bundle.json"

ACTION_DEPLOY: Final = "Deploy"
ACTION_SMOKE_TEST: Final = "SmokeTest"
ACTION_BAKE: Final = "Bake"
ACTION_APPROVE: Final = "Approve"
STAGE_ACTIONS: Final = (ACTION_DEPLOY, ACTION_SMOKE_TEST, ACTION_BAKE)

#: Deploy action output variables.
OUT_MODEL_NAME: Final = "ModelName"
OUT_ENDPOINT_CONFIG_NAME: Final = "EndpointConfigName"
OUT_ENDPOINT_NAME: Final = "EndpointName"
OUT_MODEL_PACKAGE_ARN: Final = "ModelPackageArn"

VARIANT_NAME: Final = "AllTraffic"


#: Every name Greenlight gives a pipeline, alarm or rule starts with this: the shared
#: functions' roles are scoped to it.
NAME_PREFIX: Final = "greenlight-"


def pipeline_name(group: str) -> str:
    """The CodePipeline that deploys one model package group."""
    return f"{NAME_PREFIX}{group}"


def group_of_pipeline(name: str) -> str | None:
    """The group whose pipeline is ``name``, or None for a pipeline Greenlight did not name."""
    group = name.removeprefix(NAME_PREFIX)
    return group if group != name and group else None


def approval_stage_name(stage: str) -> str:
    """The pipeline stage holding the manual approval that comes before ``stage``."""
    return f"approve-{stage}"


def stage_after_approval(approval_stage: str) -> str:
    """The deployment stage a manual approval stage stands in front of (other stage names
    are returned as they are)."""
    prefix = approval_stage_name("")
    return approval_stage[len(prefix) :] if approval_stage.startswith(prefix) else approval_stage


def alarm_name(group: str, stage: str, metric: str) -> str:
    """CloudWatch alarm names; ``metric`` is one of ``5xx``, ``4xx``, ``latency``."""
    return f"greenlight-{group}-{stage}-{metric}"


def deployment_role_name(region: str) -> str:
    """The role Deploy, SmokeTest, Bake and the cleanup assume in a target account (one
    target stack per account and region, and role names are per account)."""
    return f"greenlight-deployment-{region}"


def model_execution_role_name(group: str, region: str) -> str:
    """The SageMaker execution role of ``group``'s models in a target account: named so
    the tooling side can pass its ARN without a reference across accounts (a group name
    may take 63 of IAM's 64 characters, so it is stood for by a digest)."""
    digest = hashlib.sha256(group.encode()).hexdigest()[:12]
    return f"greenlight-model-{digest}-{region}"


def status_reader_role_name(region: str) -> str:
    """The read-only role ``greenlight status`` assumes in a target account."""
    return f"greenlight-status-reader-{region}"


def role_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


# --- AWS vocabulary -------------------------------------------------------------------
# The values AWS's APIs and events use, named once; code compares against these names,
# never against string literals.

#: SageMaker ModelApprovalStatus.
APPROVED: Final = "Approved"
REJECTED: Final = "Rejected"
PENDING_MANUAL_APPROVAL: Final = "PendingManualApproval"
APPROVAL_STATUSES: Final = (APPROVED, REJECTED, PENDING_MANUAL_APPROVAL)
#: SageMaker ModelPackageStatus of a package whose creation finished.
MODEL_PACKAGE_COMPLETED: Final = "Completed"
#: ListModelPackages' ModelPackageType for the versions of a group.
MODEL_PACKAGE_TYPE_VERSIONED: Final = "Versioned"

#: SageMaker EndpointStatus.
ENDPOINT_IN_SERVICE: Final = "InService"
ENDPOINT_CREATING: Final = "Creating"
ENDPOINT_UPDATING: Final = "Updating"
ENDPOINT_SYSTEM_UPDATING: Final = "SystemUpdating"
ENDPOINT_ROLLING_BACK: Final = "RollingBack"
ENDPOINT_DELETING: Final = "Deleting"
ENDPOINT_FAILED: Final = "Failed"

#: SageMaker blue/green TrafficRoutingConfiguration Type, and the size unit Greenlight uses.
ROLLOUT_ALL_AT_ONCE: Final = "ALL_AT_ONCE"
ROLLOUT_CANARY: Final = "CANARY"
ROLLOUT_LINEAR: Final = "LINEAR"
ROLLOUT_TYPES: Final = (ROLLOUT_ALL_AT_ONCE, ROLLOUT_CANARY, ROLLOUT_LINEAR)
CAPACITY_PERCENT: Final = "CAPACITY_PERCENT"

#: CodePipeline executionType.
EXECUTION_STANDARD: Final = "STANDARD"
EXECUTION_ROLLBACK: Final = "ROLLBACK"

#: CodePipeline execution and action execution statuses (the APIs' spelling).
STATUS_IN_PROGRESS: Final = "InProgress"
STATUS_STOPPING: Final = "Stopping"
STATUS_STOPPED: Final = "Stopped"
STATUS_SUCCEEDED: Final = "Succeeded"
STATUS_SUPERSEDED: Final = "Superseded"
STATUS_FAILED: Final = "Failed"
STATUS_CANCELLED: Final = "Cancelled"
#: An action execution given up (a stop that abandons the running actions).
STATUS_ABANDONED: Final = "Abandoned"
#: Statuses of an execution that still runs (a stop-and-wait passes through Stopping).
RUNNING_STATUSES: Final = (STATUS_IN_PROGRESS, STATUS_STOPPING)
#: Statuses of an execution that has ended.
ENDED_STATUSES: Final = (
    STATUS_STOPPED,
    STATUS_FAILED,
    STATUS_SUCCEEDED,
    STATUS_SUPERSEDED,
    STATUS_CANCELLED,
)

#: CodePipeline's EventBridge events spell the states in capitals.
STATE_STARTED: Final = "STARTED"
STATE_SUCCEEDED: Final = "SUCCEEDED"
STATE_FAILED: Final = "FAILED"
STATE_CANCELED: Final = "CANCELED"
STATE_SUPERSEDED: Final = "SUPERSEDED"
STATE_STOPPED: Final = "STOPPED"
STATE_STOPPING: Final = "STOPPING"
STATE_RESUMED: Final = "RESUMED"
STATE_ABANDONED: Final = "ABANDONED"

#: CodePipeline's trigger types: an execution started through the API, and the one
#: CodePipeline starts when it creates the pipeline.
TRIGGER_START_PIPELINE_EXECUTION: Final = "StartPipelineExecution"
TRIGGER_CREATE_PIPELINE: Final = "CreatePipeline"
#: The trigger types of a ROLLBACK execution: a stage's OnFailure ROLLBACK, and a
#: RollbackStage call (the console, the AWS CLI, an SDK).
TRIGGER_AUTOMATED_ROLLBACK: Final = "AutomatedRollback"
TRIGGER_MANUAL_ROLLBACK: Final = "ManualRollback"
#: CodePipeline's execution mode that lets a newer execution overtake an older one.
EXECUTION_MODE_SUPERSEDED: Final = "SUPERSEDED"
#: The API that rolls a stage back (and how a rollback execution was started).
ROLLBACK_STAGE: Final = "RollbackStage"

#: CodePipeline's action categories: a manual approval, a Lambda invoke, a source.
CATEGORY_APPROVAL: Final = "Approval"
CATEGORY_INVOKE: Final = "Invoke"
CATEGORY_SOURCE: Final = "Source"

#: CloudWatch alarm StateValue.
ALARM_STATE_ALARM: Final = "ALARM"
ALARM_STATE_OK: Final = "OK"
ALARM_STATE_INSUFFICIENT_DATA: Final = "INSUFFICIENT_DATA"


# --- SageMaker event ----------------------------------------------------------------

EVENT_SOURCE: Final = "aws.sagemaker"
EVENT_DETAIL_TYPE: Final = "SageMaker Model Package State Change"

# --- Lambda environment -------------------------------------------------------------

#: The shared trigger's and recorder's environment: where to record and notify. All
#: they know of a group is its registry entry (GROUP_REGISTRY_PATH).
ENV_LEDGER_TABLE: Final = "GREENLIGHT_LEDGER_TABLE"
ENV_TOPIC_ARN: Final = "GREENLIGHT_TOPIC_ARN"

# --- Ledger (DynamoDB) --------------------------------------------------------------

LEDGER_PARTITION_KEY: Final = "pk"
LEDGER_SORT_KEY: Final = "sk"

# --- Endpoint cleanup custom resource ------------------------------------------------

#: ResourceProperties of the custom resource that deletes a group's endpoints when the
#: stack is deleted: the endpoint names (list of strings), whether to keep them
#: ("true"/"false": CloudFormation passes every property as a string), and the group.
PROP_ENDPOINT_NAMES: Final = "EndpointNames"
PROP_RETAIN_ENDPOINTS: Final = "RetainEndpoints"
PROP_GROUP_NAME: Final = "GroupName"
#: Endpoint name → where it lives (``stageRoleArn``, ``stageRegion``), for the endpoints
#: of stages in another account; the others are in the stack's own account.
PROP_STAGE_TARGETS: Final = "StageTargets"

# --- Stack outputs the CLI reads -------------------------------------------------------

#: The stack that holds the ledger and the notifications topic.
STACK_NAME: Final = "Greenlight"
#: A target stack (one per target account and region) is named with this prefix.
TARGET_STACK_PREFIX: Final = "GreenlightTarget-"


def target_stack_name(account: str, region: str) -> str:
    return f"{TARGET_STACK_PREFIX}{account}-{region}"


#: CfnOutput ids (and output keys) of that stack.
OUTPUT_LEDGER_TABLE: Final = "LedgerTableName"
OUTPUT_TOPIC_ARN: Final = "NotificationTopicArn"
#: Each group adds one output holding its pipeline name, its id this prefix + the group.
OUTPUT_PIPELINE_PREFIX: Final = "PipelineName"


def pipeline_output_id(group: str) -> str:
    """``PipelineName`` + the group name in CamelCase: ``house-price`` → ``PipelineNameHousePrice``.

    Output ids may hold letters and digits only; group names add hyphens.
    """
    return OUTPUT_PIPELINE_PREFIX + "".join(
        part[:1].upper() + part[1:] for part in group.split("-") if part
    )


# --- Stacks, the group registry and what shared functions may touch ---------------------


def group_stack_name(group: str) -> str:
    """Each group's own stack: ``Greenlight-<group>``."""
    return f"{STACK_NAME}-{group}"


#: One SSM parameter per group, written by the group's stack: the settings the shared
#: trigger and recorder read for that group (shared/group_registry.py).
GROUP_REGISTRY_PATH: Final = "/greenlight/groups/"


def group_registry_parameter(group: str) -> str:
    return f"{GROUP_REGISTRY_PATH}{group}"


#: EventBridge rule names are at most 64 characters.
RULE_NAME_MAX: Final = 64


#: The one rule that sends every Greenlight pipeline's state changes to the recorder.
RECORDER_RULE_NAME: Final = f"{NAME_PREFIX}pipeline-events"


def approval_rule_name(group: str) -> str:
    """The group's approval rule: ``greenlight-approval-<group>``, shortened with a digest
    of the group name when that is over 64 characters."""
    name = f"{NAME_PREFIX}approval-{group}"
    if len(name) <= RULE_NAME_MAX:
        return name
    digest = hashlib.sha256(group.encode()).hexdigest()[:8]
    return f"{name[: RULE_NAME_MAX - 9]}-{digest}"


#: Deploy tags every model, endpoint config and endpoint it creates with this key (the
#: endpoint's name as value); the shared functions change only resources that carry it.
TAG_ENDPOINT: Final = "greenlight:endpoint"
#: The IAM path of the SageMaker execution roles the shared Deploy may pass.
EXECUTION_ROLE_PATH: Final = "/greenlight/"

# --- CodePipeline events (the recorder's input) ----------------------------------------

PIPELINE_EVENT_SOURCE: Final = "aws.codepipeline"
PIPELINE_EXECUTION_DETAIL_TYPE: Final = "CodePipeline Pipeline Execution State Change"
STAGE_EXECUTION_DETAIL_TYPE: Final = "CodePipeline Stage Execution State Change"
ACTION_EXECUTION_DETAIL_TYPE: Final = "CodePipeline Action Execution State Change"
PIPELINE_DETAIL_TYPES: Final = (
    PIPELINE_EXECUTION_DETAIL_TYPE,
    STAGE_EXECUTION_DETAIL_TYPE,
    ACTION_EXECUTION_DETAIL_TYPE,
)

# --- Registry write-back -----------------------------------------------------------------


def stage_execution_metadata_key(stage: str) -> str:
    """CustomerMetadataProperties key holding the last execution id recorded in ``stage``."""
    return f"greenlight:{stage}:execution"


def stage_time_metadata_key(stage: str) -> str:
    """CustomerMetadataProperties key holding when that execution's outcome was recorded."""
    return f"greenlight:{stage}:at"


# --- Deployment metrics (CloudWatch, embedded metric format) ----------------------------

#: The recorder emits these (shared/observability.py); each group's dashboard reads them.
METRICS_NAMESPACE: Final = "Greenlight"
METRIC_DIMENSION_GROUP: Final = "Group"
METRIC_DIMENSION_STAGE: Final = "Stage"
METRIC_DEPLOYMENTS_STARTED: Final = "DeploymentsStarted"
METRIC_DEPLOYMENTS_SUCCEEDED: Final = "DeploymentsSucceeded"
METRIC_DEPLOYMENTS_FAILED: Final = "DeploymentsFailed"
METRIC_DEPLOYMENTS_ROLLED_BACK: Final = "DeploymentsRolledBack"
#: Seconds from the approval to the version being live in the stage.
METRIC_LEAD_TIME: Final = "LeadTime"
#: Seconds from the failure (or the rollback's start) to the previous version live again.
METRIC_TIME_TO_RESTORE: Final = "TimeToRestore"
DEPLOYMENT_COUNT_METRICS: Final = (
    METRIC_DEPLOYMENTS_STARTED,
    METRIC_DEPLOYMENTS_SUCCEEDED,
    METRIC_DEPLOYMENTS_FAILED,
    METRIC_DEPLOYMENTS_ROLLED_BACK,
)
DEPLOYMENT_TIME_METRICS: Final = (METRIC_LEAD_TIME, METRIC_TIME_TO_RESTORE)
