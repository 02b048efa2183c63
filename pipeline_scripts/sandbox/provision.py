"""Create what the template declares, one resource kind at a time, as CloudFormation
would (docs/aws-behaviour.md, "CloudFormation and the provisioned inventory").

``provision_inventory`` creates the generic resources (keys, roles, log groups, queues,
buckets, functions); the functions here create what the sandbox also runs: the tables,
the topics, the alarms, the model package groups, the rules, the stack with its outputs
and the pipelines with their source bundles.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from pipeline_scripts.emulation.iam import Role
from pipeline_scripts.emulation.jobs import Artifact
from pipeline_scripts.sandbox.accounts import DATA_SCIENTIST_KEY
from pipeline_scripts.sandbox.app_spec import AlarmSpec, AppSpec, ResourceAlreadyExists
from pipeline_scripts.sandbox.engine import PipelineEngine
from pipeline_scripts.sandbox.inventory import zip_path

#: A client of the sandbox's AWS for a service, acting as the access key given (if any).
Client = Callable[..., Any]

_ALARM_KEYS = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "ComparisonOperator",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "MetricName",
    "Namespace",
    "Period",
    "Statistic",
    "ExtendedStatistic",
    "Threshold",
    "TreatMissingData",
    "Dimensions",
    "Unit",
)


def provision_tables(app: AppSpec, dynamodb: Any) -> None:
    """Each table with the encryption, deletion protection and point-in-time
    recovery the template declares."""
    for name, table in app.tables.items():
        sse = table.get("SSESpecification", {})
        dynamodb.create_table(
            TableName=name,
            KeySchema=table["KeySchema"],
            AttributeDefinitions=table["AttributeDefinitions"],
            BillingMode=table.get("BillingMode", "PAY_PER_REQUEST"),
            DeletionProtectionEnabled=bool(table.get("DeletionProtectionEnabled", False)),
            **({"SSESpecification": _sse_specification(sse)} if sse else {}),
        )
        recovery = table.get("PointInTimeRecoverySpecification", {})
        if recovery.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )


def _sse_specification(sse: dict[str, Any]) -> dict[str, Any]:
    """The template's ``SSESpecification`` in CreateTable's shape."""
    return {
        "Enabled": bool(sse.get("SSEEnabled", False)),
        **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
        **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}),
    }


def provision_topics(app: AppSpec, sns: Any, sqs: Any) -> str:
    """Each topic, subscribed by one queue the sandbox reads; returns that queue's URL."""
    queue = str(sqs.create_queue(QueueName="sandbox-notifications")["QueueUrl"])
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topics = {r.name: r.properties for r in app.inventory.of("AWS::SNS::Topic")}
    for topic_arn in app.topics.values():
        properties = topics.get(topic_arn, {})
        sns.create_topic(
            Name=topic_arn.rsplit(":", 1)[-1],
            Attributes={
                key: str(properties[key])
                for key in ("DisplayName", "KmsMasterKeyId")
                if key in properties
            },
        )
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "false"},
        )
    return queue


def provision_alarms(alarms: Iterable[AlarmSpec], cloudwatch: Any) -> None:
    for alarm in alarms:
        cloudwatch.put_metric_alarm(
            **{k: v for k, v in alarm.properties.items() if k in _ALARM_KEYS}
        )


def provision_roles(roles: Iterable[Role], iam: Any) -> None:
    """Each role with its trust policy (its permissions are the IAM check's to apply)."""
    for role in roles:
        iam.create_role(
            RoleName=role.name,
            AssumeRolePolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": list(role.trust)}
            ),
        )


def provision_groups(app: AppSpec, existing_groups: Iterable[str], client: Client) -> None:
    """The account's existing groups, then the template's: CloudFormation fails to
    create a group whose name exists (adopt it with ``adoptExistingGroup``)."""
    existing = tuple(existing_groups)
    sagemaker = client("sagemaker", access_key=DATA_SCIENTIST_KEY)
    for group in existing:
        sagemaker.create_model_package_group(
            ModelPackageGroupName=group,
            ModelPackageGroupDescription="created in SageMaker before the stack",
        )
    for group in app.model_package_groups:
        if group in app.adopted_groups:
            continue
        if group in existing:
            raise ResourceAlreadyExists(
                "AWS::SageMaker::ModelPackageGroup",
                group,
                'set "adoptExistingGroup": true on the group in cdk.json to use it',
            )
        client("sagemaker").create_model_package_group(ModelPackageGroupName=group)


def provision_rules(app: AppSpec, events: Any) -> None:
    """The rules with their real targets; ``RuleDelivery`` runs the functions."""
    declared = {r.logical_id: r.properties for r in app.inventory.of("AWS::Events::Rule")}
    for rule in app.rules:
        properties = declared.get(rule.logical_id, {})
        events.put_rule(
            Name=rule.name,
            EventPattern=json.dumps(rule.event_pattern),
            State=properties.get("State", "ENABLED"),
            **({"Description": properties["Description"]} if "Description" in properties else {}),
        )
        targets = properties.get("Targets", [])
        if targets:
            events.put_targets(Rule=rule.name, Targets=targets)


def publish_stack_outputs(app: AppSpec, cloudformation: Any) -> str:
    """Each stack, in deployment order, with every output its template declares, resolved
    (the CLI looks them up with DescribeStacks); returns the shared stack's id."""
    stacks = app.stacks or {app.stack_name: app.inventory.outputs}
    ids: dict[str, str] = {}
    for name, outputs in stacks.items():
        template = {
            "Resources": {},
            "Outputs": {
                key: {"Value": value, **({"Description": description} if description else {})}
                for key, (value, description) in outputs.items()
            },
        }
        created = cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
        ids[name] = str(created["StackId"])
    return ids.get(app.stack_name) or next(iter(ids.values()))


def provision_pipelines(app: AppSpec, s3: Any, engine: PipelineEngine) -> None:
    """Each pipeline, with its source bundle put where its source action reads it."""
    for pipeline in app.pipelines:
        if pipeline.bundle is not None:
            bundle = pipeline.bundle
            if bundle.bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
                s3.create_bucket(Bucket=bundle.bucket)
                s3.put_bucket_versioning(
                    Bucket=bundle.bucket, VersioningConfiguration={"Status": "Enabled"}
                )
            put = s3.put_object(
                Bucket=bundle.bucket, Key=bundle.key, Body=zip_path(bundle.local_path)
            )
            engine.bundles[pipeline.name] = Artifact(
                name="Bundle", bucket=bundle.bucket, key=bundle.key, revision=put.get("VersionId")
            )
        engine.add_pipeline(pipeline.declaration)
