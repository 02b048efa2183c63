"""What the sandbox reads from a synthesized stack: plain values, references resolved.

``template.load_app`` builds an ``AppSpec`` from the cloud assembly; the sandbox
provisions and runs what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline_scripts.emulation.iam import Role
from pipeline_scripts.sandbox.custom_resources import CustomResourceSpec


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
class TargetSpec:
    """A target stack, read in its own account and region (``targets``)."""

    stack_name: str
    account: str
    region: str
    roles: tuple[Role, ...]
    alarms: tuple[AlarmSpec, ...]


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
    #: Each stack of the assembly, in deployment order → its outputs (key → (resolved
    #: value, description)); the CLI reads them with DescribeStacks.
    stacks: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    #: Statements of the resource-based policies moto does not keep (model package
    #: groups'): what another account may do to the stack's resources.
    resource_policies: tuple[dict[str, Any], ...] = ()
    #: The target stacks: what stages in other accounts need there.
    targets: tuple[TargetSpec, ...] = ()
