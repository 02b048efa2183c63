"""Every stack of the cloud assembly, linked into the one account the sandbox runs.

The app is several stacks (the shared ``Greenlight`` one and one per group); a group's
stack uses the shared stack's values through ``Fn::ImportValue`` of its named exports.
CloudFormation deploys them in dependency order into one account and resolves each
import to the exporting stack's output. The sandbox does the same before it reads
anything: it takes each stack's template from ``manifest.json``, in dependency order,
gives each stack's logical ids a namespace of their own (every group stack declares the
same ids; the shared stack keeps its own as they are), puts the resources side by side,
and replaces every import with the value its export declares. An import that no stack
exports, or an export name two stacks declare, is refused as CloudFormation would
refuse the deployment.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pipeline_scripts.sandbox.app_spec import TemplateError
from shared.contract import STACK_NAME, TARGET_STACK_PREFIX

#: CDK's version-reporting resource: one per stack, the same logical id in each.
_PER_STACK_RESOURCES: Final = frozenset({"AWS::CDK::Metadata"})
_STACK_ARTIFACT: Final = "aws:cloudformation:stack"


class AssemblyError(TemplateError):
    """The cloud assembly cannot be deployed as it is (the message says why)."""


@dataclass(frozen=True)
class Stack:
    """One stack of the assembly: its name, template and assets manifest."""

    name: str
    template: dict[str, Any]
    assets: Path | None


@dataclass(frozen=True)
class LinkedAssembly:
    """Every stack's resources and outputs, imports resolved, in deployment order."""

    #: ``Resources`` and ``Outputs`` of every stack together.
    template: dict[str, Any]
    #: Stack name → its own outputs (key → output), imports resolved.
    outputs: dict[str, dict[str, Any]]
    #: The stacks' assets manifests (``<stack>.assets.json``) that exist.
    asset_manifests: tuple[Path, ...]


def link(cdk_out: Path, *, shared_stack: str = STACK_NAME) -> LinkedAssembly:
    """Read and link every stack of the assembly in ``cdk_out``; the logical ids of every
    stack but ``shared_stack`` get a prefix of their stack's own."""
    stacks = [
        stack if stack.name == shared_stack else _namespaced(stack)
        for stack in read_stacks(cdk_out)
    ]
    exports = _exports(stacks)
    resources: dict[str, Any] = {}
    owners: dict[str, str] = {}
    outputs: dict[str, dict[str, Any]] = {}
    for stack in stacks:
        for logical_id, resource in stack.template.get("Resources", {}).items():
            if logical_id in resources:
                if resource.get("Type") in _PER_STACK_RESOURCES:
                    continue
                raise AssemblyError(
                    f"stacks {owners[logical_id]} and {stack.name} both declare the logical "
                    f"id {logical_id}; the sandbox runs them in one account and cannot tell "
                    "them apart"
                )
            resources[logical_id] = _imported(resource, exports, stack.name)
            owners[logical_id] = stack.name
        outputs[stack.name] = _imported(stack.template.get("Outputs", {}), exports, stack.name)
    merged_outputs = {key: value for each in outputs.values() for key, value in each.items()}
    return LinkedAssembly(
        template={"Resources": resources, "Outputs": merged_outputs},
        outputs=outputs,
        asset_manifests=tuple(s.assets for s in stacks if s.assets is not None),
    )


def read_stacks(cdk_out: Path) -> list[Stack]:
    """The assembly's stacks in an order that deploys each after the stacks it depends on."""
    manifest_path = cdk_out / "manifest.json"
    if not manifest_path.is_file():
        return [_bare(cdk_out)]
    artifacts: dict[str, Any] = json.loads(manifest_path.read_text())["artifacts"]
    # A target stack runs in another account: ``template.load_targets`` reads it there.
    declared = {
        name: artifact
        for name, artifact in artifacts.items()
        if artifact.get("type") == _STACK_ARTIFACT and not name.startswith(TARGET_STACK_PREFIX)
    }
    if not declared:
        raise AssemblyError(f"{manifest_path} declares no stack")
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in path:
            raise AssemblyError(f"stacks depend on each other in a cycle: {' -> '.join(path)}")
        for dependency in declared[name].get("dependencies", []):
            if dependency in declared:
                visit(dependency, (*path, name))
        ordered.append(name)

    for name in declared:
        visit(name, ())
    return [_stack(cdk_out, name, declared[name]) for name in ordered]


def _bare(cdk_out: Path) -> Stack:
    """A folder holding only the shared stack's template (no manifest): that one stack."""
    template_path = cdk_out / f"{STACK_NAME}.template.json"
    if not template_path.is_file():
        raise AssemblyError(
            f"{cdk_out / 'manifest.json'} not found: synthesize the app first (make synth)"
        )
    assets = cdk_out / f"{STACK_NAME}.assets.json"
    return Stack(
        name=STACK_NAME,
        template=json.loads(template_path.read_text()),
        assets=assets if assets.is_file() else None,
    )


def _stack(cdk_out: Path, name: str, artifact: Mapping[str, Any]) -> Stack:
    template_path = cdk_out / str(artifact["properties"]["templateFile"])
    if not template_path.is_file():
        raise AssemblyError(f"{template_path} not found: synthesize the app first (make synth)")
    assets = cdk_out / f"{name}.assets.json"
    return Stack(
        name=name,
        template=json.loads(template_path.read_text()),
        assets=assets if assets.is_file() else None,
    )


def namespace(stack_name: str) -> str:
    """The prefix of a stack's logical ids in the linked template: short, alphanumeric,
    and the stack's own (a digest of its name)."""
    return "S" + hashlib.sha256(stack_name.encode()).hexdigest()[:6]


def _namespaced(stack: Stack) -> Stack:
    """``stack`` with each logical id prefixed, and every reference to one rewritten."""
    prefix = namespace(stack.name)
    ids = set(stack.template.get("Resources", {}))

    def renamed(logical_id: str) -> str:
        return prefix + logical_id if logical_id in ids else logical_id

    def rewrite(value: Any) -> Any:
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            return {"Ref": renamed(value["Ref"])}
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            if isinstance(target, str):
                logical_id, _, attribute = target.partition(".")
                return {"Fn::GetAtt": f"{renamed(logical_id)}.{attribute}"}
            return {"Fn::GetAtt": [renamed(target[0]), *target[1:]]}
        if set(value) == {"Fn::Sub"}:
            return {"Fn::Sub": _sub(value["Fn::Sub"], renamed, rewrite)}
        return {key: rewrite(item) for key, item in value.items()}

    resources = {}
    for logical_id, resource in stack.template.get("Resources", {}).items():
        moved = rewrite(resource)
        depends = resource.get("DependsOn")
        if depends is not None:
            moved["DependsOn"] = (
                renamed(depends) if isinstance(depends, str) else [renamed(d) for d in depends]
            )
        resources[renamed(logical_id)] = moved
    template = {
        **stack.template,
        "Resources": resources,
        "Outputs": rewrite(stack.template.get("Outputs", {})),
    }
    return Stack(name=stack.name, template=template, assets=stack.assets)


def _sub(argument: Any, renamed: Callable[[str], str], rewrite: Callable[[Any], Any]) -> Any:
    """An ``Fn::Sub`` with the ``${LogicalId}`` and ``${LogicalId.Attr}`` it names renamed."""
    text, variables = (argument, None) if isinstance(argument, str) else argument
    own = set(variables or {})

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!") or name in own:
            return match.group(0)
        logical_id, dot, attribute = name.partition(".")
        return "${" + renamed(logical_id) + dot + attribute + "}"

    replaced = re.sub(r"\$\{([^}]+)\}", replace, text)
    return replaced if variables is None else [replaced, rewrite(variables)]


def _exports(stacks: list[Stack]) -> dict[str, tuple[str, Any]]:
    """Export name → (exporting stack, the value its output declares)."""
    exports: dict[str, tuple[str, Any]] = {}
    for stack in stacks:
        for output in stack.template.get("Outputs", {}).values():
            name = output.get("Export", {}).get("Name")
            if name is None:
                continue
            if not isinstance(name, str):
                raise AssemblyError(f"{stack.name}: the sandbox needs export names as text")
            if name in exports:
                raise AssemblyError(
                    f"stacks {exports[name][0]} and {stack.name} both export {name}; "
                    "export names are unique in an account and region"
                )
            exports[name] = (stack.name, output["Value"])
    return exports


def _imported(value: Any, exports: Mapping[str, tuple[str, Any]], stack: str) -> Any:
    """``value`` with every ``Fn::ImportValue`` replaced by the exported value."""
    if isinstance(value, list):
        return [_imported(item, exports, stack) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Fn::ImportValue"}:
        name = value["Fn::ImportValue"]
        if not isinstance(name, str) or name not in exports:
            raise AssemblyError(f"{stack} imports {name!r}, which no stack of the assembly exports")
        return exports[name][1]
    return {key: _imported(item, exports, stack) for key, item in value.items()}
