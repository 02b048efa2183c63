"""Read the synthesized cloud assembly (``cdk.out``) the way CloudFormation would.

The sandbox runs what ``cdk deploy`` would create, not a copy of it: the EventBridge
rules' patterns, the pipelines' stages, actions, ``UserParameters`` and ``OnFailure``
conditions, the functions' handlers and environments, and the alarms all come from the
template. This module resolves the intrinsic functions the template uses against the
names the sandbox gives each resource, and hands back plain values.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline_scripts.emulation.iam import Role
from pipeline_scripts.sandbox.custom_resources import CustomResourceSpec, read_custom_resources
from pipeline_scripts.sandbox.roles import function_roles
from shared.contract import ENV_GROUP_NAME

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"


class TemplateError(Exception):
    """The cloud assembly is missing, or holds something the sandbox cannot run."""


class ResourceAlreadyExists(TemplateError):
    """CloudFormation cannot create a named resource whose name is taken in the account."""

    def __init__(self, kind: str, name: str, hint: str) -> None:
        super().__init__(f"CREATE_FAILED {kind} {name!r}: it already exists in the account; {hint}")


#: Lambda's defaults when the template leaves them out (docs/aws-behaviour.md, Lambda).
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_ASYNC_RETRY_ATTEMPTS = 2
DEFAULT_ASYNC_MAX_EVENT_AGE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class QueueRef:
    """An SQS queue the template declares, named as the sandbox names it."""

    logical_id: str
    arn: str

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    environment: dict[str, str]
    #: The function's properties with the template's references resolved.
    properties: dict[str, Any] = field(default_factory=dict)
    #: ``Timeout``: how long Lambda lets one invocation run.
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    #: ``AWS::Lambda::EventInvokeConfig`` of ``$LATEST``: retries of a failed
    #: asynchronous invocation, and how old its event may grow before it is dropped.
    async_retry_attempts: int = DEFAULT_ASYNC_RETRY_ATTEMPTS
    async_max_event_age_seconds: int = DEFAULT_ASYNC_MAX_EVENT_AGE_SECONDS
    #: ``DeadLetterConfig``: where a failed asynchronous invocation's event ends.
    dead_letter_queue: QueueRef | None = None


@dataclass(frozen=True)
class RuleSpec:
    logical_id: str
    name: str
    event_pattern: dict[str, Any]
    #: Logical ids of the Lambda functions the rule targets.
    target_functions: tuple[str, ...]


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class BundleSpec:
    """Where the pipeline's source action reads its bundle, and the local file to put there."""

    bucket: str
    key: str
    local_path: Path


@dataclass(frozen=True)
class PipelineSpec:
    logical_id: str
    name: str
    #: The pipeline in GetPipeline's ``pipeline`` shape (stages, actions, variables …).
    declaration: dict[str, Any]
    bundle: BundleSpec | None


@dataclass(frozen=True)
class Resource:
    """One resource of the template: its logical id, physical name and resolved properties."""

    logical_id: str
    kind: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Inventory:
    resources: tuple[Resource, ...]
    #: Output key -> (resolved value, description).
    outputs: dict[str, tuple[str, str]]
    #: S3 object key -> local path, for the stack's file assets (the functions' code).
    assets: dict[str, Path]

    def of(self, kind: str) -> list[Resource]:
        return [r for r in self.resources if r.kind == kind]


def read_inventory(
    template: dict[str, Any], resolver: Resolver, assets: dict[str, Path]
) -> Inventory:
    """Every resource of the template with its references resolved, and the outputs."""
    resources = tuple(
        Resource(
            logical_id=logical_id,
            kind=resource["Type"],
            name=_physical(resolver, logical_id, resource["Type"]),
            properties=resolver.resolve(resource.get("Properties", {})),
        )
        for logical_id, resource in template.get("Resources", {}).items()
    )
    outputs = {
        key: (str(resolver.resolve(output["Value"])), str(output.get("Description", "")))
        for key, output in template.get("Outputs", {}).items()
    }
    return Inventory(resources=resources, outputs=outputs, assets=assets)


def _physical(resolver: Resolver, logical_id: str, kind: str) -> str:
    if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
        return logical_id
    reference = resolver.ref(logical_id)
    if kind == "AWS::SQS::Queue":
        return reference.rsplit("/", 1)[-1]
    return reference


@dataclass(frozen=True)
class AppSpec:
    stack_name: str
    model_package_groups: tuple[str, ...]
    functions: dict[str, FunctionSpec]
    rules: tuple[RuleSpec, ...]
    pipelines: tuple[PipelineSpec, ...]
    alarms: tuple[AlarmSpec, ...]
    tables: dict[str, dict[str, Any]]
    topics: dict[str, str]
    queues: dict[str, str] = field(default_factory=dict)
    #: Those of ``model_package_groups`` the stack uses but does not create
    #: (``adoptExistingGroup``): they exist in the account before the stack does.
    adopted_groups: tuple[str, ...] = ()
    #: Everything the template declares, as CloudFormation would create it.
    inventory: Inventory = field(default_factory=lambda: Inventory((), {}, {}))
    #: Function name → its execution role and the role's policy statements.
    roles: dict[str, Role] = field(default_factory=dict)
    #: The custom resources, in template order, and the function each one reaches.
    custom_resources: tuple[CustomResourceSpec, ...] = ()

    def function_by_name(self, name: str) -> FunctionSpec:
        for spec in self.functions.values():
            if spec.name == name:
                return spec
        raise TemplateError(f"no function named {name!r} in the template")


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

    def __init__(self, resources: dict[str, Any]) -> None:
        self._resources = resources

    def ref(self, logical_id: str) -> str:
        pseudo = {
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "Greenlight",
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
        }
        key_of_name = name_keys.get(kind, "")
        if kind == "AWS::SNS::Topic":
            return self._arn("sns", props.get("TopicName") or _physical_name(logical_id))
        if kind == "AWS::SQS::Queue":
            name = props.get("QueueName") or _physical_name(logical_id)
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"
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
                "AWS::IAM::Role": ("iam", f"role/{name}"),
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
                return f"arn:{PARTITION}:{service}::{'' if service == 's3' else ACCOUNT_ID}:{path}"
            return self._arn(service, path)
        if attribute == "QueueName":
            return name.rsplit("/", 1)[-1]
        if attribute == "TopicName":
            return name.rsplit(":", 1)[-1]
        if attribute in ("ModelPackageGroupArn",):
            return self.ref(logical_id)
        return f"{name}.{attribute}"

    def _arn(self, service: str, path: str) -> str:
        return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT_ID}:{path}"

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


def load_app(cdk_out: Path, stack_name: str = "Greenlight") -> AppSpec:
    """Read ``stack_name``'s template from a cloud assembly directory."""
    template_path = cdk_out / f"{stack_name}.template.json"
    if not template_path.is_file():
        raise TemplateError(f"{template_path} not found: synthesize the app first (make synth)")
    template = json.loads(template_path.read_text())
    resources: dict[str, Any] = template.get("Resources", {})
    resolver = Resolver(resources)
    assets = _asset_paths(cdk_out, stack_name)

    functions: dict[str, FunctionSpec] = {}
    rules: list[RuleSpec] = []
    pipelines: list[PipelineSpec] = []
    alarms: list[AlarmSpec] = []
    tables: dict[str, dict[str, Any]] = {}
    topics: dict[str, str] = {}
    groups: list[str] = []
    for logical_id, resource in resources.items():
        kind = resource["Type"]
        props = resource.get("Properties", {})
        if kind == "AWS::Lambda::Function":
            functions[logical_id] = _function_spec(logical_id, props, resources, resolver)
        elif kind == "AWS::Events::Rule":
            targets = tuple(
                _logical_id_of(target["Arn"])
                for target in props.get("Targets", [])
                if _logical_id_of(target["Arn"])
            )
            rules.append(
                RuleSpec(
                    logical_id=logical_id,
                    name=resolver.ref(logical_id),
                    event_pattern=resolver.resolve(props.get("EventPattern", {})),
                    target_functions=tuple(t for t in targets if t),
                )
            )
        elif kind == "AWS::CodePipeline::Pipeline":
            pipelines.append(_pipeline_spec(logical_id, props, resolver, assets))
        elif kind == "AWS::CloudWatch::Alarm":
            resolved = resolver.resolve(props)
            alarms.append(AlarmSpec(name=resolved["AlarmName"], properties=resolved))
        elif kind == "AWS::DynamoDB::Table":
            tables[resolver.ref(logical_id)] = resolver.resolve(props)
        elif kind == "AWS::SNS::Topic":
            topics[logical_id] = resolver.ref(logical_id)
        elif kind == "AWS::SageMaker::ModelPackageGroup":
            groups.append(str(resolver.resolve(props["ModelPackageGroupName"])))
    adopted = _adopted_groups(functions, groups)
    return AppSpec(
        stack_name=stack_name,
        model_package_groups=(*groups, *adopted),
        functions=functions,
        rules=tuple(rules),
        pipelines=tuple(pipelines),
        alarms=tuple(alarms),
        tables=tables,
        topics=topics,
        inventory=read_inventory(template, resolver, assets),
        adopted_groups=adopted,
        roles=function_roles(resources, resolver),
        custom_resources=read_custom_resources(resources, resolver.resolve),
    )


def _adopted_groups(functions: dict[str, FunctionSpec], declared: list[str]) -> tuple[str, ...]:
    """The groups the functions serve that the template does not create."""
    served = {f.environment.get(ENV_GROUP_NAME, "") for f in functions.values()}
    return tuple(sorted(served - set(declared) - {""}))


def _function_spec(
    logical_id: str, props: dict[str, Any], resources: dict[str, Any], resolver: Resolver
) -> FunctionSpec:
    env = props.get("Environment", {}).get("Variables", {})
    target = props.get("DeadLetterConfig", {}).get("TargetArn")
    queue_id = _logical_id_of(target)
    invoke_config = _event_invoke_config(logical_id, resources)
    return FunctionSpec(
        logical_id=logical_id,
        name=resolver.ref(logical_id),
        handler=props.get("Handler", ""),
        environment={k: str(resolver.resolve(v)) for k, v in env.items()},
        properties=resolver.resolve(props),
        timeout_seconds=int(props.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
        async_retry_attempts=int(
            invoke_config.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRY_ATTEMPTS)
        ),
        async_max_event_age_seconds=int(
            invoke_config.get("MaximumEventAgeInSeconds", DEFAULT_ASYNC_MAX_EVENT_AGE_SECONDS)
        ),
        dead_letter_queue=(
            QueueRef(logical_id=queue_id, arn=str(resolver.resolve(target)))
            if queue_id is not None
            else None
        ),
    )


def _event_invoke_config(function_id: str, resources: dict[str, Any]) -> dict[str, Any]:
    """The properties of the EventInvokeConfig of the function's ``$LATEST``, if any."""
    for resource in resources.values():
        if resource["Type"] != "AWS::Lambda::EventInvokeConfig":
            continue
        props: dict[str, Any] = resource.get("Properties", {})
        qualifier = props.get("Qualifier", "$LATEST")
        if props.get("FunctionName") == {"Ref": function_id} and qualifier == "$LATEST":
            return props
    return {}


def _logical_id_of(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        arg = value["Fn::GetAtt"]
        return str(arg[0] if isinstance(arg, list) else arg.split(".", 1)[0])
    return None


def _asset_paths(cdk_out: Path, stack_name: str) -> dict[str, Path]:
    """Object key → local path, for the file assets the stack publishes."""
    manifest_path = cdk_out / f"{stack_name}.assets.json"
    if not manifest_path.is_file():
        return {}
    manifest = json.loads(manifest_path.read_text())
    paths: dict[str, Path] = {}
    for asset in manifest.get("files", {}).values():
        source = cdk_out / asset["source"]["path"]
        for destination in asset.get("destinations", {}).values():
            paths[destination["objectKey"]] = source
    return paths


def _pipeline_spec(
    logical_id: str, props: dict[str, Any], resolver: Resolver, assets: dict[str, Path]
) -> PipelineSpec:
    stages = []
    bundle: BundleSpec | None = None
    for stage in props.get("Stages", []):
        actions = []
        for action in stage.get("Actions", []):
            configuration = resolver.resolve(action.get("Configuration", {}))
            type_id = action["ActionTypeId"]
            if type_id["Category"] == "Source" and type_id["Provider"] == "S3":
                key = configuration["S3ObjectKey"]
                local = assets.get(key)
                if local is not None:
                    bundle = BundleSpec(bucket=configuration["S3Bucket"], key=key, local_path=local)
            actions.append(
                {
                    "name": action["Name"],
                    "actionTypeId": {
                        "category": type_id["Category"],
                        "owner": type_id["Owner"],
                        "provider": type_id["Provider"],
                        "version": type_id["Version"],
                    },
                    "runOrder": action.get("RunOrder", 1),
                    "configuration": configuration,
                    "inputArtifacts": [
                        {"name": a["Name"]} for a in action.get("InputArtifacts", [])
                    ],
                    "outputArtifacts": [
                        {"name": a["Name"]} for a in action.get("OutputArtifacts", [])
                    ],
                    **({"namespace": action["Namespace"]} if "Namespace" in action else {}),
                }
            )
        declared: dict[str, Any] = {"name": stage["Name"], "actions": actions}
        if "OnFailure" in stage:
            on_failure = stage["OnFailure"]
            declared["onFailure"] = {"result": on_failure.get("Result")}
        stages.append(declared)
    declaration = {
        "name": resolver.ref(logical_id),
        "pipelineType": props.get("PipelineType", "V1"),
        "executionMode": props.get("ExecutionMode", "SUPERSEDED"),
        "variables": [
            {
                "name": v["Name"],
                **({"defaultValue": v["DefaultValue"]} if "DefaultValue" in v else {}),
                **({"description": v["Description"]} if "Description" in v else {}),
            }
            for v in props.get("Variables", [])
        ],
        "stages": stages,
        "version": 1,
    }
    return PipelineSpec(
        logical_id=logical_id,
        name=declaration["name"],
        declaration=declaration,
        bundle=bundle,
    )
