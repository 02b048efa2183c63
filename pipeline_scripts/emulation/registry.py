"""The SageMaker Model Registry as AWS runs it, where moto differs.

What AWS does, and what this module makes moto do while ``RegistryEmulation`` is
installed (in-process, so it holds for ``mock_aws`` and for a moto server in the same
process alike):

- **State-change events.** SageMaker sends ``SageMaker Model Package State Change``
  (source ``aws.sagemaker``) to the account's default event bus when a versioned
  package is created and whenever its approval status or metadata changes. The detail
  carries the documented fields (ModelPackageGroupName, ModelPackageVersion,
  ModelPackageArn, ModelPackageName, CreationTime, InferenceSpecification,
  ModelPackageStatus, ModelApprovalStatus, ModelMetrics, MetadataProperties,
  LastModifiedTime) but not CreatedBy, LastModifiedBy or ApprovalDescription. moto
  emits nothing; here each CreateModelPackage / UpdateModelPackage puts that event on
  the default bus, where the account's rules route it.
- **UpdateModelPackage leaves what it is not given alone.** moto resets the approval
  status, approval description and customer metadata to empty when an update omits
  them; AWS changes only the fields in the request. CustomerMetadataProperties are
  merged into the existing ones (keys in CustomerMetadataPropertiesToRemove go).
- **ModelLifeCycle** (Stage, StageStatus, StageDescription) is accepted on create and
  update and returned by DescribeModelPackage, as in AWS. moto drops it.
- **Who did it.** AWS records the caller in CreatedBy / LastModifiedBy (an IAM identity
  or a Studio user profile). moto reports one fake Studio user for both. Here the
  caller is the request's access key id, reported as an IAM user of that name — so a
  registrant and an approver with different keys are different people, and the
  separation-of-duties gate can be exercised.
- **Who am I.** STS GetCallerIdentity returns the IAM user or role whose credentials
  call it. moto answers one fake user (``user/moto``) for any key it did not issue;
  here such a key is the same IAM user the registry records, so an operator's
  ``greenlight rollback`` names the person who ran it (docs/aws-behaviour.md, STS).
  Keys moto issued (an assumed role, an IAM user it created) keep moto's answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.events.models import events_backends
from moto.sagemaker.models import ModelPackage, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.sts.models import STSBackend

from pipeline_scripts.emulation.iam import person_arn
from shared.clock import Clock, current_clock
from shared.contract import EVENT_DETAIL_TYPE, EVENT_SOURCE

_caller: ContextVar[str | None] = ContextVar("greenlight_registry_caller", default=None)

#: Fields of DescribeModelPackage that the documented event carries.
_EVENT_FIELDS = (
    "ModelPackageGroupName",
    "ModelPackageVersion",
    "ModelPackageArn",
    "InferenceSpecification",
    "ModelPackageStatus",
    "ModelApprovalStatus",
    "ModelMetrics",
    "MetadataProperties",
)

EventListener = Callable[[dict[str, Any]], None]
#: Who signs with an access key in an account: (key, account) → principal ARN.
Principal = Callable[[str, str], str]


def identity_for(
    access_key_id: str, account_id: str, principal: Principal = person_arn
) -> dict[str, Any]:
    """The UserContext AWS would record for a caller with this access key; ``principal``
    names who signs with it (a person, the IAM user of the key's name, unless told)."""
    return {
        "IamIdentity": {
            "Arn": principal(access_key_id, account_id),
            "PrincipalId": access_key_id,
        }
    }


def _epoch_ms(value: datetime | str | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


class RegistryEmulation:
    """Patches moto's SageMaker registry while installed; ``uninstall`` restores it."""

    def __init__(self, clock: Clock | None = None) -> None:
        #: Times of creation, modification and events (moto's own are wall-clock).
        self.clock: Clock = clock or current_clock()
        self._originals: dict[tuple[type, str], Any] = {}
        self.listeners: list[EventListener] = []
        #: ModelLifeCycle by package ARN (moto's package objects have no place for it).
        self.life_cycles: dict[str, dict[str, str]] = {}
        #: Who signs with a key: the sandbox's IAM check tells functions' and assumed
        #: roles' sessions from people.
        self.principal: Principal = person_arn
        #: Every event sent, as AWS delivers it, by event id.
        self.emitted: dict[str, dict[str, Any]] = {}

    # -- installation -------------------------------------------------------------

    def install(self) -> RegistryEmulation:
        """Patch moto's model package calls (who and when, ModelLifeCycle, events) and
        GetCallerIdentity."""
        emulation = self

        def create_model_package(response: SageMakerResponse) -> ActionResult:
            return emulation._create_model_package(response)

        def update_model_package(response: SageMakerResponse) -> ActionResult:
            return emulation._update_model_package(response)

        def gen_response_object(package: ModelPackage) -> dict[str, Any]:
            return emulation._describe(package)

        self._patch(SageMakerResponse, "create_model_package", create_model_package)
        self._patch(SageMakerResponse, "update_model_package", update_model_package)
        self._patch(ModelPackage, "gen_response_object", gen_response_object)
        return self._install_caller_identity()

    def _create_model_package(self, response: SageMakerResponse) -> ActionResult:
        token = _caller.set(response.get_access_key())
        try:
            result: ActionResult = self._original(SageMakerResponse, "create_model_package")(
                response
            )
        finally:
            _caller.reset(token)
        arn = result.result["ModelPackageArn"]  # type: ignore[index]
        package = self._package(response, arn)
        caller = response.get_access_key()
        package.created_by = identity_for(caller, response.current_account, self.principal)
        package.creation_time = self.clock.now()
        package.last_modified_by = package.created_by
        package.last_modified_time = package.creation_time
        life_cycle = response._get_param("ModelLifeCycle")
        if life_cycle is not None:
            self.life_cycles[package.arn] = life_cycle
        self._emit(response, package)
        return result

    def _update_model_package(self, response: SageMakerResponse) -> ActionResult:
        arn = response._get_param("ModelPackageArn")
        package = self._package(response, arn)
        status = response._get_param("ModelApprovalStatus")
        if status is not None:
            package.set_model_approval_status(status)
        description = response._get_param("ApprovalDescription")
        if description is not None:
            package.approval_description = description
        metadata = response._get_param("CustomerMetadataProperties")
        if metadata:
            merged = dict(package.customer_metadata_properties or {})
            merged.update(metadata)
            package.customer_metadata_properties = merged
        for key in response._get_param("CustomerMetadataPropertiesToRemove") or []:
            (package.customer_metadata_properties or {}).pop(key, None)
        life_cycle = response._get_param("ModelLifeCycle")
        if life_cycle is not None:
            self.life_cycles[package.arn] = life_cycle
        package.last_modified_time = self.clock.now()
        package.last_modified_by = identity_for(
            response.get_access_key(), response.current_account, self.principal
        )
        self._emit(response, package)
        return ActionResult({"ModelPackageArn": package.arn})

    def _describe(self, package: ModelPackage) -> dict[str, Any]:
        described: dict[str, Any] = self._original(ModelPackage, "gen_response_object")(package)
        life_cycle = self.life_cycles.get(package.arn)
        if life_cycle:
            described["ModelLifeCycle"] = life_cycle
        if package.model_package_group_name:
            described["ModelPackageName"] = package.model_package_group_name
        return described

    def _install_caller_identity(self) -> RegistryEmulation:
        """GetCallerIdentity for a key moto did not issue: a function's session, or the
        IAM user of the key's name."""
        original = STSBackend.get_caller_identity

        def get_caller_identity(
            backend: STSBackend, access_key_id: str, region: str
        ) -> tuple[str, str, str]:
            found: tuple[str, str, str] = original(backend, access_key_id, region)
            if found[1] != f"arn:aws:sts::{backend.account_id}:user/moto":
                return found
            arn = self.principal(access_key_id, backend.account_id)
            return access_key_id, arn, backend.account_id

        self._patch(STSBackend, "get_caller_identity", get_caller_identity)
        return self

    def uninstall(self) -> None:
        for (owner, name), original in self._originals.items():
            setattr(owner, name, original)
        self._originals.clear()

    def _patch(self, owner: type, name: str, replacement: Any) -> None:
        self._originals[(owner, name)] = getattr(owner, name)
        setattr(owner, name, replacement)

    def _original(self, owner: type, name: str) -> Any:
        return self._originals[(owner, name)]

    # -- behaviour ----------------------------------------------------------------

    @staticmethod
    def _package(response: SageMakerResponse, arn: str) -> ModelPackage:
        backend = sagemaker_backends[response.current_account][response.region]
        package: ModelPackage = backend.describe_model_package(arn)
        return package

    def _emit(self, response: SageMakerResponse, package: ModelPackage) -> None:
        if not package.model_package_group_name:
            return  # unversioned packages are outside the registry's events
        described = package.gen_response_object()
        detail = {key: described[key] for key in _EVENT_FIELDS if key in described}
        detail["ModelPackageName"] = (
            f"{package.model_package_group_name}/{package.model_package_version}"
        )
        detail["CreationTime"] = _epoch_ms(package.creation_time)
        detail["LastModifiedTime"] = _epoch_ms(package.last_modified_time)
        now = self.clock.now()
        detail_json = json.dumps(detail, default=str)
        entry = {
            "Source": EVENT_SOURCE,
            "DetailType": EVENT_DETAIL_TYPE,
            "Resources": [package.arn],
            "Detail": detail_json,
            # moto's event template wants a number here; the event as AWS delivers it
            # (an ISO 8601 string) is what ``self.emitted`` keeps.
            "Time": now.timestamp(),
        }
        backend = events_backends[response.current_account][response.region]
        (result,) = backend.put_events([entry])
        event = {
            "version": "0",
            "id": result["EventId"],
            "detail-type": EVENT_DETAIL_TYPE,
            "source": EVENT_SOURCE,
            "account": response.current_account,
            "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": response.region,
            "resources": [package.arn],
            "detail": json.loads(detail_json),
        }
        self.emitted[event["id"]] = event
        for listener in self.listeners:
            listener(event)


@contextmanager
def registry_emulation() -> Iterator[RegistryEmulation]:
    """Install the registry emulation for the duration of a ``with`` block."""
    emulation = RegistryEmulation().install()
    try:
        yield emulation
    finally:
        emulation.uninstall()
