"""Read the synthesized cloud assembly (``cdk.out``) the way CloudFormation would.

The sandbox runs what ``cdk deploy`` would create, not a copy of it: the EventBridge
rules' patterns, the pipelines' stages, actions, ``UserParameters`` and ``OnFailure``
conditions, the functions' handlers and environments, and the alarms all come from the
template. ``load_app`` links every stack of a cloud assembly into one template, imports
resolved (``assembly``), and reads it (``read_stack``): each resource kind by its own
reader, with the intrinsic functions resolved (``resolver``) against the names the
sandbox gives each resource.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline_scripts.sandbox.app_spec import (
    DEFAULT_ASYNC_MAX_EVENT_AGE_SECONDS,
    DEFAULT_ASYNC_RETRY_ATTEMPTS,
    DEFAULT_TIMEOUT_SECONDS,
    AlarmSpec,
    AppSpec,
    BundleSpec,
    FunctionSpec,
    Inventory,
    PipelineSpec,
    QueueRef,
    Resource,
    RuleSpec,
    TargetSpec,
    TemplateError,
)
from pipeline_scripts.sandbox.assembly import link
from pipeline_scripts.sandbox.custom_resources import read_custom_resources
from pipeline_scripts.sandbox.resolver import Resolver
from pipeline_scripts.sandbox.roles import declared_roles, function_roles, resource_policies
from shared.contract import GROUP_REGISTRY_PATH, STACK_NAME, TARGET_STACK_PREFIX


def load_app(cdk_out: Path) -> AppSpec:
    """Every stack of the cloud assembly in ``cdk_out``, linked and read; the target
    stacks (in other accounts) each read on its own."""
    linked = link(cdk_out)
    assets: dict[str, Path] = {}
    for manifest in linked.asset_manifests:
        assets.update(_asset_paths(cdk_out, manifest))
    app = read_stack(STACK_NAME, linked.template, assets)
    resolver = Resolver(linked.template["Resources"])
    return replace(
        app,
        stacks={name: _outputs(outputs, resolver) for name, outputs in linked.outputs.items()},
        targets=load_targets(cdk_out),
    )


def read_stack(stack_name: str, template: dict[str, Any], assets: dict[str, Path]) -> AppSpec:
    """One (linked) template, read kind by kind; ``assets`` are its file assets."""
    resources: dict[str, Any] = template.get("Resources", {})
    resolver = Resolver(resources)
    functions = _functions(resources, resolver)
    groups = _groups(resources, resolver)
    adopted = _adopted_groups(resources, resolver, groups)
    return AppSpec(
        stack_name=stack_name,
        model_package_groups=(*groups, *adopted),
        functions=functions,
        rules=_rules(resources, resolver),
        pipelines=tuple(
            _pipeline_spec(logical_id, props, resolver, assets)
            for logical_id, props in _of_kind(resources, "AWS::CodePipeline::Pipeline")
        ),
        alarms=read_alarms(resources, resolver),
        tables={
            resolver.ref(logical_id): resolver.resolve(props)
            for logical_id, props in _of_kind(resources, "AWS::DynamoDB::Table")
        },
        topics={
            logical_id: resolver.ref(logical_id)
            for logical_id, _props in _of_kind(resources, "AWS::SNS::Topic")
        },
        inventory=read_inventory(template, resolver, assets),
        adopted_groups=adopted,
        roles=function_roles(resources, resolver),
        custom_resources=read_custom_resources(resources, resolver.resolve),
        resource_policies=tuple(resource_policies(resources, resolver)),
    )


def _of_kind(resources: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The logical id and properties of each resource of ``kind``, in template order."""
    for logical_id, resource in resources.items():
        if resource["Type"] == kind:
            yield logical_id, resource.get("Properties", {})


def _functions(resources: dict[str, Any], resolver: Resolver) -> dict[str, FunctionSpec]:
    return {
        logical_id: _function_spec(logical_id, props, resources, resolver)
        for logical_id, props in _of_kind(resources, "AWS::Lambda::Function")
    }


def _rules(resources: dict[str, Any], resolver: Resolver) -> tuple[RuleSpec, ...]:
    rules = []
    for logical_id, props in _of_kind(resources, "AWS::Events::Rule"):
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
    return tuple(rules)


def read_alarms(resources: dict[str, Any], resolver: Resolver) -> tuple[AlarmSpec, ...]:
    alarms = []
    for _logical_id, props in _of_kind(resources, "AWS::CloudWatch::Alarm"):
        resolved = resolver.resolve(props)
        alarms.append(AlarmSpec(name=resolved["AlarmName"], properties=resolved))
    return tuple(alarms)


def _groups(resources: dict[str, Any], resolver: Resolver) -> list[str]:
    return [
        str(resolver.resolve(props["ModelPackageGroupName"]))
        for _logical_id, props in _of_kind(resources, "AWS::SageMaker::ModelPackageGroup")
    ]


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
    outputs = _outputs(template.get("Outputs", {}), resolver)
    return Inventory(resources=resources, outputs=outputs, assets=assets)


def _outputs(outputs: dict[str, Any], resolver: Resolver) -> dict[str, tuple[str, str]]:
    """Output key → (resolved value, description)."""
    return {
        key: (str(resolver.resolve(output["Value"])), str(output.get("Description", "")))
        for key, output in outputs.items()
    }


def _physical(resolver: Resolver, logical_id: str, kind: str) -> str:
    if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
        return logical_id
    reference = resolver.ref(logical_id)
    if kind == "AWS::SQS::Queue":
        return reference.rsplit("/", 1)[-1]
    return reference


def _adopted_groups(
    resources: dict[str, Any], resolver: Resolver, declared: list[str]
) -> tuple[str, ...]:
    """The groups in the group registry that the template does not create."""
    registered = {
        str(resolver.resolve(props.get("Name", ""))).removeprefix(GROUP_REGISTRY_PATH)
        for _logical_id, props in _of_kind(resources, "AWS::SSM::Parameter")
        if str(resolver.resolve(props.get("Name", ""))).startswith(GROUP_REGISTRY_PATH)
    }
    return tuple(sorted(registered - set(declared) - {""}))


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


def _asset_paths(cdk_out: Path, manifest_path: Path) -> dict[str, Path]:
    """Object key → local path, for the file assets a stack's manifest publishes."""
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
    """The pipeline in GetPipeline's shape, and the bundle its S3 source action reads."""
    stages = [_stage_declaration(stage, resolver) for stage in props.get("Stages", [])]
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
        bundle=_source_bundle(stages, assets),
    )


def _stage_declaration(stage: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    actions = [_action_declaration(action, resolver) for action in stage.get("Actions", [])]
    declared: dict[str, Any] = {"name": stage["Name"], "actions": actions}
    if "OnFailure" in stage:
        on_failure = stage["OnFailure"]
        declared["onFailure"] = {"result": on_failure.get("Result")}
    return declared


def _action_declaration(action: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    type_id = action["ActionTypeId"]
    return {
        "name": action["Name"],
        "actionTypeId": {
            "category": type_id["Category"],
            "owner": type_id["Owner"],
            "provider": type_id["Provider"],
            "version": type_id["Version"],
        },
        "runOrder": action.get("RunOrder", 1),
        "configuration": resolver.resolve(action.get("Configuration", {})),
        "inputArtifacts": [{"name": a["Name"]} for a in action.get("InputArtifacts", [])],
        "outputArtifacts": [{"name": a["Name"]} for a in action.get("OutputArtifacts", [])],
        **({"namespace": action["Namespace"]} if "Namespace" in action else {}),
    }


def _source_bundle(stages: list[dict[str, Any]], assets: dict[str, Path]) -> BundleSpec | None:
    """The last S3 source action's object, when the stack publishes it as a file asset."""
    bundle: BundleSpec | None = None
    for stage in stages:
        for action in stage["actions"]:
            type_id = action["actionTypeId"]
            if type_id["category"] != "Source" or type_id["provider"] != "S3":
                continue
            configuration = action["configuration"]
            key = configuration["S3ObjectKey"]
            local = assets.get(key)
            if local is not None:
                bundle = BundleSpec(bucket=configuration["S3Bucket"], key=key, local_path=local)
    return bundle


# --- target stacks ---------------------------------------------------------------------
# A stage in another account has a target stack there (``GreenlightTarget-<account>-
# <region>``): read with its own environment, so its roles' and alarms' ARNs name that
# account. Its roles are what the IAM check lets be assumed; its alarms are provisioned
# in that account.


def load_targets(cdk_out: Path) -> tuple[TargetSpec, ...]:
    """Every target stack of the cloud assembly, read in its own environment."""
    return tuple(_targets(cdk_out))


def _targets(cdk_out: Path) -> Iterator[TargetSpec]:
    manifest_path = cdk_out / "manifest.json"
    if not manifest_path.is_file():
        return
    manifest = json.loads(manifest_path.read_text())
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        if not name.startswith(TARGET_STACK_PREFIX):
            continue
        account, region = _environment(name, str(artifact.get("environment", "")))
        template_file = artifact.get("properties", {}).get("templateFile", f"{name}.template.json")
        resources = json.loads((cdk_out / template_file).read_text()).get("Resources", {})
        resolver = Resolver(resources, account=account, region=region, stack_name=name)
        yield TargetSpec(
            stack_name=name,
            account=account,
            region=region,
            roles=tuple(declared_roles(resources, resolver)),
            alarms=read_alarms(resources, resolver),
        )


def _environment(name: str, environment: str) -> tuple[str, str]:
    """``aws://222222222222/us-east-1`` → (account, region); a target stack has both."""
    parts = environment.removeprefix("aws://").split("/")
    if len(parts) != 2 or not parts[0].isdigit():
        raise TemplateError(f"target stack {name} has no account and region ({environment!r})")
    return parts[0], parts[1]
