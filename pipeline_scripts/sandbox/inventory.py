"""The stack's inventory, created as CloudFormation would create it.

A user of the served sandbox sees what ``cdk deploy`` would have left in the account:
the KMS key, the roles with their policies, the log groups, the queues with their
policies, the buckets, the functions (name, runtime, handler, timeout, role,
environment, dead-letter queue, logging) with their asynchronous invocation settings,
and the stack with every output the template declares, resolved. Each resource gets
the physical name ``resolver.Resolver`` gives it, so the ARNs the template's references
resolve to are the ARNs of these resources. See docs/aws-behaviour.md, "CloudFormation
and the provisioned inventory".
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.kms.models import kms_backends

from pipeline_scripts.sandbox.accounts import ACCOUNT_ID, PARTITION, REGION
from pipeline_scripts.sandbox.app_spec import Inventory
from pipeline_scripts.sandbox.resolver import kms_key_id

Client = Callable[[str], Any]

#: The properties of AWS::Lambda::Function that CreateFunction takes as they are.
_FUNCTION_KEYS = (
    "Runtime",
    "Role",
    "Handler",
    "Description",
    "Timeout",
    "MemorySize",
    "Environment",
    "Architectures",
    "DeadLetterConfig",
    "LoggingConfig",
    "TracingConfig",
)


def provision_inventory(inventory: Inventory, client: Client) -> None:
    """Create what the template declares, in CloudFormation's dependency order."""
    _keys(inventory)
    _roles(inventory, client("iam"))
    _log_groups(inventory, client("logs"))
    _queues(inventory, client("sqs"))
    _buckets(inventory, client("s3"))
    _parameters(inventory, client("ssm"))
    _functions(inventory, client("lambda"))


def _keys(inventory: Inventory) -> None:
    backend = kms_backends[ACCOUNT_ID][REGION]
    for resource in inventory.of("AWS::KMS::Key"):
        key = backend.create_key(
            policy=json.dumps(resource.properties.get("KeyPolicy", {})),
            key_usage=resource.properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
            key_spec=resource.properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
            description=resource.properties.get("Description", ""),
            tags=None,
        )
        # CloudFormation names the key; the template's references resolve to that name.
        del backend.keys[key.id]
        key.id = kms_key_id(resource.logical_id)
        key.arn = f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT_ID}:key/{key.id}"
        backend.keys[key.id] = key
        if resource.properties.get("EnableKeyRotation"):
            backend.enable_key_rotation(key.id)


def _roles(inventory: Inventory, iam: Any) -> None:
    for role in inventory.of("AWS::IAM::Role"):
        props = role.properties
        iam.create_role(
            RoleName=role.name,
            AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
            **({"Description": props["Description"]} if "Description" in props else {}),
            **({"Path": props["Path"]} if "Path" in props else {}),
        )
        for arn in props.get("ManagedPolicyArns", []):
            iam.attach_role_policy(RoleName=role.name, PolicyArn=arn)
        for policy in props.get("Policies", []):
            iam.put_role_policy(
                RoleName=role.name,
                PolicyName=policy["PolicyName"],
                PolicyDocument=json.dumps(policy["PolicyDocument"]),
            )
    for policy in inventory.of("AWS::IAM::Policy"):
        for role_name in policy.properties.get("Roles", []):
            iam.put_role_policy(
                RoleName=role_name,
                PolicyName=policy.properties["PolicyName"],
                PolicyDocument=json.dumps(policy.properties["PolicyDocument"]),
            )


def _parameters(inventory: Inventory, ssm: Any) -> None:
    """The SSM parameters (each group's registry entry), as the template writes them."""
    for parameter in inventory.of("AWS::SSM::Parameter"):
        props = parameter.properties
        ssm.put_parameter(
            Name=props["Name"],
            Value=props["Value"],
            Type=props["Type"],
            **({"Description": props["Description"]} if "Description" in props else {}),
        )


def _log_groups(inventory: Inventory, logs: Any) -> None:
    for group in inventory.of("AWS::Logs::LogGroup"):
        props = group.properties
        logs.create_log_group(
            logGroupName=group.name,
            **({"kmsKeyId": props["KmsKeyId"]} if "KmsKeyId" in props else {}),
        )
        if "RetentionInDays" in props:
            logs.put_retention_policy(
                logGroupName=group.name, retentionInDays=props["RetentionInDays"]
            )


def _queues(inventory: Inventory, sqs: Any) -> None:
    attribute_keys = (
        "DelaySeconds",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "ReceiveMessageWaitTimeSeconds",
        "VisibilityTimeout",
        "SqsManagedSseEnabled",
        "KmsMasterKeyId",
    )
    urls: dict[str, str] = {}
    for queue in inventory.of("AWS::SQS::Queue"):
        attributes = {
            key: _attribute(queue.properties[key])
            for key in attribute_keys
            if key in queue.properties
        }
        urls[queue.name] = sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
    for policy in inventory.of("AWS::SQS::QueuePolicy"):
        for url in policy.properties.get("Queues", []):
            sqs.set_queue_attributes(
                QueueUrl=urls[url.rsplit("/", 1)[-1]],
                Attributes={"Policy": json.dumps(policy.properties["PolicyDocument"])},
            )


def _attribute(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _buckets(inventory: Inventory, s3: Any) -> None:
    for bucket in inventory.of("AWS::S3::Bucket"):
        props = bucket.properties
        s3.create_bucket(Bucket=bucket.name)
        if "BucketEncryption" in props:
            s3.put_bucket_encryption(
                Bucket=bucket.name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": rule[
                                "ServerSideEncryptionByDefault"
                            ],
                            **{k: rule[k] for k in ("BucketKeyEnabled",) if k in rule},
                        }
                        for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                    ]
                },
            )
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=bucket.name,
                PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"],
            )
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(
                Bucket=bucket.name,
                VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]},
            )
        if "LifecycleConfiguration" in props:
            s3.put_bucket_lifecycle_configuration(
                Bucket=bucket.name,
                LifecycleConfiguration={"Rules": _lifecycle_rules(props)},
            )
    for policy in inventory.of("AWS::S3::BucketPolicy"):
        s3.put_bucket_policy(
            Bucket=policy.properties["Bucket"],
            Policy=json.dumps(policy.properties["PolicyDocument"]),
        )


def _lifecycle_rules(props: dict[str, Any]) -> list[dict[str, Any]]:
    rules = []
    for index, rule in enumerate(props["LifecycleConfiguration"]["Rules"]):
        converted: dict[str, Any] = {
            "ID": rule.get("Id", f"rule-{index}"),
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "ExpirationInDays" in rule:
            converted["Expiration"] = {"Days": rule["ExpirationInDays"]}
        if "NoncurrentVersionExpiration" in rule:
            days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
            converted["NoncurrentVersionExpiration"] = {"NoncurrentDays": days}
        rules.append(converted)
    return rules


def _functions(inventory: Inventory, lambda_client: Any) -> None:
    for function in inventory.of("AWS::Lambda::Function"):
        props = function.properties
        spec = {key: props[key] for key in _FUNCTION_KEYS if key in props}
        if "KmsKeyArn" in props:
            spec["KMSKeyArn"] = props["KmsKeyArn"]
        lambda_client.create_function(
            **spec,
            FunctionName=function.name,
            Code={"ZipFile": _code(inventory, props.get("Code", {}))},
        )
    for config in inventory.of("AWS::Lambda::EventInvokeConfig"):
        props = config.properties
        lambda_client.put_function_event_invoke_config(
            FunctionName=props["FunctionName"],
            Qualifier=props.get("Qualifier", "$LATEST"),
            **{
                key: props[key]
                for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds")
                if key in props
            },
        )


def _code(inventory: Inventory, code: dict[str, Any]) -> bytes:
    """The function's deployment package: the asset the stack publishes, zipped."""
    if "ZipFile" in code:
        return _zip_text("index.py", str(code["ZipFile"]))
    local = inventory.assets.get(str(code.get("S3Key", "")))
    if local is None:
        return _zip_text("README", "the code of this function is not in the cloud assembly")
    return zip_path(local)


def _zip_text(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


def zip_path(path: Path) -> bytes:
    """A directory asset as the CDK publishes it: a zip of its files."""
    if path.is_file():
        return path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            archive.writestr(file.relative_to(path).as_posix(), file.read_bytes())
    return buffer.getvalue()
