"""The intrinsic functions of a template, resolved as CloudFormation would resolve them.

Each resource gets the name and ARN it would have after a deploy in the sandbox's
account (``accounts``), so that references between resources hold.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from pipeline_scripts.sandbox.accounts import ACCOUNT_ID, PARTITION, REGION
from pipeline_scripts.sandbox.app_spec import TemplateError


def _physical_name(logical_id: str) -> str:
    return f"sandbox-{logical_id}"[:64]


def _bucket_name(logical_id: str) -> str:
    """As CloudFormation names a bucket: stack and logical id, lower case, a unique tail,
    at most 63 characters."""
    tail = hashlib.sha256(logical_id.encode()).hexdigest()[:12]
    return f"greenlight-{logical_id}".lower()[:50] + f"-{tail}"


def kms_key_id(logical_id: str) -> str:
    """The key id the sandbox's KMS key ``logical_id`` gets (a UUID, as KMS's are)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"greenlight-sandbox/{logical_id}"))


class Resolver:
    """Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split and the pseudo
    parameters, giving each resource the name and ARN it would have after a deploy."""

    def __init__(
        self,
        resources: dict[str, Any],
        *,
        account: str = ACCOUNT_ID,
        region: str = REGION,
        stack_name: str = "Greenlight",
    ) -> None:
        """``account`` and ``region``: the stack's environment (a target stack's is
        another account's)."""
        self._resources = resources
        self.account = account
        self.region = region
        self._stack_name = stack_name

    def ref(self, logical_id: str) -> str:
        pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self._stack_name,
            "AWS::NoValue": "",
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        resource = self._resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"Ref to unknown resource {logical_id!r}")
        kind = resource["Type"]
        props = resource.get("Properties", {})
        name_keys = {
            "AWS::Lambda::Function": "FunctionName",
            "AWS::DynamoDB::Table": "TableName",
            "AWS::CodePipeline::Pipeline": "Name",
            "AWS::CloudWatch::Alarm": "AlarmName",
            "AWS::S3::Bucket": "BucketName",
            "AWS::IAM::Role": "RoleName",
            "AWS::Events::Rule": "Name",
            "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
            "AWS::SSM::Parameter": "Name",
        }
        key_of_name = name_keys.get(kind, "")
        if kind == "AWS::SNS::Topic":
            return self._arn("sns", props.get("TopicName") or _physical_name(logical_id))
        if kind == "AWS::SQS::Queue":
            name = props.get("QueueName") or _physical_name(logical_id)
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name}"
        if kind == "AWS::KMS::Key":
            return kms_key_id(logical_id)
        if kind == "AWS::S3::Bucket" and key_of_name not in props:
            return _bucket_name(logical_id)
        if kind == "AWS::SageMaker::ModelPackageGroup":
            return self._arn(
                "sagemaker", f"model-package-group/{self.resolve(props[name_keys[kind]])}"
            )
        key = name_keys.get(kind)
        if key and key in props:
            return str(self.resolve(props[key]))
        return _physical_name(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource = self._resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"Fn::GetAtt on unknown resource {logical_id!r}")
        kind = resource["Type"]
        name = self.ref(logical_id)
        if attribute == "Arn":
            service_and_path = {
                "AWS::Lambda::Function": ("lambda", f"function:{name}"),
                "AWS::DynamoDB::Table": ("dynamodb", f"table/{name}"),
                "AWS::IAM::Role": (
                    "iam",
                    f"role{resource.get('Properties', {}).get('Path', '/')}{name}",
                ),
                "AWS::SQS::Queue": ("sqs", name.rsplit("/", 1)[-1]),
                "AWS::Events::Rule": ("events", f"rule/{name}"),
                "AWS::KMS::Key": ("kms", f"key/{name}"),
                "AWS::CloudWatch::Alarm": ("cloudwatch", f"alarm:{name}"),
                "AWS::S3::Bucket": ("s3", name),
            }.get(kind)
            if service_and_path is None:
                return self._arn(kind.split("::")[1].lower(), name)
            service, path = service_and_path
            if service in ("iam", "s3"):
                owner = "" if service == "s3" else self.account
                return f"arn:{PARTITION}:{service}::{owner}:{path}"
            return self._arn(service, path)
        if attribute == "QueueName":
            return name.rsplit("/", 1)[-1]
        if attribute == "TopicName":
            return name.rsplit(":", 1)[-1]
        if attribute in ("ModelPackageGroupArn",):
            return self.ref(logical_id)
        return f"{name}.{attribute}"

    def _arn(self, service: str, path: str) -> str:
        return f"arn:{PARTITION}:{service}:{self.region}:{self.account}:{path}"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(self.resolve(item)) for item in items)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(index)]
            if key == "Fn::Split":
                separator, text = arg
                return str(self.resolve(text)).split(separator)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key.startswith("Fn::"):
                raise TemplateError(f"the sandbox cannot resolve {key}")
        return {key: self.resolve(item) for key, item in value.items()}

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}]+)\}", replace, text)
