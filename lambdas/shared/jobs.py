"""The CodePipeline job a Lambda invoke action receives, and the one way to answer it.

CodePipeline invokes the function with ``{"CodePipeline.job": {...}}`` and then waits
until the function calls ``PutJobSuccessResult`` or ``PutJobFailureResult``. An action
that returns without either call hangs until CodePipeline times it out (20 minutes
without a reply), so ``run_job`` reports a result on every path, unexpected exceptions
included.

A success may carry a ``continuationToken``: CodePipeline then invokes the function
again, as a new job with a new id, with that token in ``data.continuationToken``. That
is how Deploy and Bake wait for minutes without holding a Lambda invocation open.

The job's ``artifactCredentials`` are temporary credentials for the artifact bucket.
They are never logged and never shown in a ``repr``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from shared import contract
from shared.clock import Clock, current_clock
from shared.observability import invocation, logger

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient

#: API limits of PutJobSuccessResult / PutJobFailureResult and of output variables.
MAX_MESSAGE_CHARS: Final = 5000
MAX_SUMMARY_CHARS: Final = 2048
MAX_CONTINUATION_TOKEN_CHARS: Final = 2048
MAX_OUTPUT_VARIABLE_VALUE_CHARS: Final = 1000
MAX_OUTPUT_VARIABLES_BYTES: Final = 122880
_ELLIPSIS: Final = " …"


class InvalidJobEvent(ValueError):
    """The Lambda event is not a CodePipeline job event."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"CodePipeline job event {path}: {problem}")
        self.path = path


class ResultTooLarge(ValueError):
    """A result does not fit the CodePipeline job API's limits."""


@dataclass(frozen=True)
class ArtifactCredentials:
    """Temporary credentials for the artifact bucket. Their values never print."""

    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)

    def __repr__(self) -> str:
        return "ArtifactCredentials(<redacted>)"

    __str__ = __repr__


@dataclass(frozen=True, kw_only=True)
class S3Location:
    bucket: str
    key: str


@dataclass(frozen=True, kw_only=True)
class InputArtifact:
    name: str
    revision: str | None
    location: S3Location


@dataclass(frozen=True, kw_only=True)
class PipelineJob:
    """One invocation of a Lambda invoke action, as CodePipeline describes it."""

    id: str
    account_id: str
    user_parameters: str
    continuation_token: str | None
    input_artifacts: tuple[InputArtifact, ...]
    credentials: ArtifactCredentials | None = field(repr=False, default=None)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> PipelineJob:
        job = _object(event, "CodePipeline.job", "CodePipeline.job")
        data = _object(job, "data", "CodePipeline.job.data")
        action_config = _object(data, "actionConfiguration", "data.actionConfiguration")
        configuration = _object(
            action_config, "configuration", "data.actionConfiguration.configuration"
        )
        user_parameters = configuration.get("UserParameters", "")
        if not isinstance(user_parameters, str):
            raise InvalidJobEvent(
                "data.actionConfiguration.configuration.UserParameters", "expected a string"
            )
        token = data.get("continuationToken")
        if token is not None and not isinstance(token, str):
            raise InvalidJobEvent("data.continuationToken", "expected a string")
        return cls(
            id=job_id_of(event),
            account_id=str(job.get("accountId", "")),
            user_parameters=user_parameters,
            continuation_token=token or None,
            input_artifacts=tuple(
                _artifact(raw, index) for index, raw in enumerate(data.get("inputArtifacts", []))
            ),
            credentials=_credentials(data.get("artifactCredentials")),
        )

    def input_artifact(self, name: str | None = None) -> InputArtifact:
        """The input artifact called ``name``, or the only one when ``name`` is None."""
        if name is not None:
            for artifact in self.input_artifacts:
                if artifact.name == name:
                    return artifact
        if name is None and len(self.input_artifacts) == 1:
            return self.input_artifacts[0]
        names = ", ".join(a.name for a in self.input_artifacts) or "none"
        wanted = repr(name) if name is not None else "exactly one"
        raise InvalidJobEvent("data.inputArtifacts", f"expected {wanted}, the job has {names}")


def job_id_of(event: Mapping[str, Any]) -> str:
    """The job id, the one field needed to report any result at all."""
    job = _object(event, "CodePipeline.job", "CodePipeline.job")
    job_id = job.get("id")
    if not isinstance(job_id, str) or not job_id:
        raise InvalidJobEvent("CodePipeline.job.id", "missing")
    return job_id


# --- results ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Succeeded:
    """The action is done. ``output_variables`` become ``#{<namespace>.<key>}``."""

    summary: str
    output_variables: Mapping[str, str] = field(default_factory=dict)
    external_execution_id: str | None = None

    @property
    def status(self) -> str:
        return contract.STATUS_SUCCEEDED


@dataclass(frozen=True, kw_only=True)
class InProgress:
    """Still working: CodePipeline invokes the action again with ``continuation_token``."""

    continuation_token: str
    summary: str
    percent_complete: int | None = None
    external_execution_id: str | None = None

    @property
    def status(self) -> str:
        return contract.STATUS_IN_PROGRESS


@dataclass(frozen=True, kw_only=True)
class Failed:
    message: str
    external_execution_id: str | None = None

    @property
    def status(self) -> str:
        return contract.STATUS_FAILED


JobResult = Succeeded | InProgress | Failed


def nothing_to_deploy(action: str, stage: str) -> Succeeded:
    """The result of an action in an execution that carries no model version (pipeline
    creation, a console "Release change"): it succeeds at once and touches nothing."""
    return Succeeded(
        summary=(
            f"{action} in {stage}: the execution carries no model version "
            "(pipeline creation or a release without one); nothing deployed, endpoint untouched"
        )
    )


def run_job(
    event: Mapping[str, Any],
    action: Callable[[PipelineJob], JobResult],
    *,
    action_name: str,
    codepipeline: CodePipelineClient | None = None,
    clock: Clock | None = None,
) -> dict[str, str]:
    """Run one action invocation and report its result to CodePipeline, whatever happens.

    Returns a small summary (job id, status) for the Lambda response; it holds nothing
    secret. Raises only when the event has no job id (there is nothing to report to) or
    when CodePipeline refuses both the result and the failure that follows it.
    """
    job_id = job_id_of(event)
    with invocation(event_id=job_id, **_parameter_ids(event)):
        return _run(
            event,
            job_id,
            action,
            action_name=action_name,
            codepipeline=codepipeline,
            clock=clock or current_clock(),
        )


def _run(
    event: Mapping[str, Any],
    job_id: str,
    action: Callable[[PipelineJob], JobResult],
    *,
    action_name: str,
    codepipeline: CodePipelineClient | None,
    clock: Clock,
) -> dict[str, str]:
    started = clock.now()
    try:
        job = PipelineJob.from_event(event)
        result = action(job)
    except Exception as error:
        logger.exception("%s job %s raised %s", action_name, job_id, type(error).__name__)
        result = Failed(message=f"{action_name} raised {describe_error(error)}")

    client = codepipeline or _default_codepipeline()
    try:
        _report(client, job_id, result)
    except Exception as error:
        if isinstance(result, Failed):
            raise
        logger.exception("%s job %s: reporting %s failed", action_name, job_id, result.status)
        result = Failed(
            message=f"{action_name} could not report {result.status}: {describe_error(error)}"
        )
        _report(client, job_id, result)

    elapsed = (clock.now() - started).total_seconds()
    logger.info(
        "%s job %s: %s in %.1f s%s",
        action_name,
        job_id,
        result.status,
        elapsed,
        f": {result.message}" if isinstance(result, Failed) else "",
    )
    return {"jobId": job_id, "status": result.status}


def _parameter_ids(event: Mapping[str, Any]) -> dict[str, str | None]:
    """The group, stage and model package ARN in the action's UserParameters, for the
    log lines; read leniently (the action refuses bad parameters, naming the field).
    Nothing else of the job event is read here: it holds the artifact credentials."""
    try:
        job = event["CodePipeline.job"]
        text = job["data"]["actionConfiguration"]["configuration"]["UserParameters"]
        parameters = json.loads(text)
    except (KeyError, TypeError, ValueError):
        return {}
    if not isinstance(parameters, dict):
        return {}
    return {
        key: value if isinstance(value, str) else None
        for key, value in (
            ("group", parameters.get("group")),
            ("stage", parameters.get("stage")),
            ("model_package_arn", parameters.get("modelPackageArn")),
        )
    }


def describe_error(error: BaseException) -> str:
    """``Type: message``, with the AWS error code when the error is a ClientError."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return f"{type(error).__name__} ({code}): {error}"
    return f"{type(error).__name__}: {error}"


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(_ELLIPSIS)] + _ELLIPSIS


def check_output_variables(variables: Mapping[str, str]) -> dict[str, str]:
    """The variables as CodePipeline accepts them, or ResultTooLarge naming the key."""
    checked: dict[str, str] = {}
    total = 0
    for key, value in variables.items():
        if not key or not all(c.isalnum() or c in "@-_" for c in key):
            raise ResultTooLarge(f"output variable name {key!r} is not [A-Za-z0-9@_-]+")
        if len(value) > MAX_OUTPUT_VARIABLE_VALUE_CHARS:
            raise ResultTooLarge(
                f"output variable {key} is {len(value)} characters, "
                f"more than {MAX_OUTPUT_VARIABLE_VALUE_CHARS}"
            )
        total += len(key.encode()) + len(value.encode())
        checked[key] = value
    if total > MAX_OUTPUT_VARIABLES_BYTES:
        raise ResultTooLarge(f"output variables total {total} bytes")
    return checked


def _report(client: CodePipelineClient, job_id: str, result: JobResult) -> None:
    if isinstance(result, Failed):
        details: dict[str, str] = {
            "type": "JobFailed",
            "message": truncate(result.message or "failed", MAX_MESSAGE_CHARS),
        }
        if result.external_execution_id:
            details["externalExecutionId"] = result.external_execution_id
        client.put_job_failure_result(jobId=job_id, failureDetails=details)  # type: ignore[arg-type]
        return
    execution: dict[str, Any] = {"summary": truncate(result.summary or "-", MAX_SUMMARY_CHARS)}
    if result.external_execution_id:
        execution["externalExecutionId"] = result.external_execution_id
    if isinstance(result, InProgress):
        if not 1 <= len(result.continuation_token) <= MAX_CONTINUATION_TOKEN_CHARS:
            raise ResultTooLarge(
                f"continuation token is {len(result.continuation_token)} characters, "
                f"expected 1..{MAX_CONTINUATION_TOKEN_CHARS}"
            )
        if result.percent_complete is not None:
            execution["percentComplete"] = max(0, min(100, result.percent_complete))
        client.put_job_success_result(
            jobId=job_id,
            continuationToken=result.continuation_token,
            executionDetails=execution,  # type: ignore[arg-type]
        )
        return
    client.put_job_success_result(
        jobId=job_id,
        executionDetails=execution,  # type: ignore[arg-type]
        outputVariables=check_output_variables(result.output_variables),
    )


def _default_codepipeline() -> CodePipelineClient:
    from shared import clients  # noqa: PLC0415 - created on first use, never at import

    made: CodePipelineClient = clients.client("codepipeline")
    return made


def _object(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = parent.get(key) if isinstance(parent, Mapping) else None
    if not isinstance(value, Mapping):
        raise InvalidJobEvent(path, "missing or not an object")
    return value


def _artifact(raw: Any, index: int) -> InputArtifact:
    path = f"data.inputArtifacts[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidJobEvent(path, "not an object")
    location = _object(raw, "location", f"{path}.location")
    if location.get("type") != "S3":
        raise InvalidJobEvent(f"{path}.location.type", f"expected S3, got {location.get('type')!r}")
    s3 = _object(location, "s3Location", f"{path}.location.s3Location")
    bucket, key = s3.get("bucketName"), s3.get("objectKey")
    if not isinstance(bucket, str) or not isinstance(key, str):
        raise InvalidJobEvent(f"{path}.location.s3Location", "bucketName and objectKey required")
    revision = raw.get("revision")
    return InputArtifact(
        name=str(raw.get("name", "")),
        revision=revision if isinstance(revision, str) else None,
        location=S3Location(bucket=bucket, key=key),
    )


def _credentials(raw: Any) -> ArtifactCredentials | None:
    if not isinstance(raw, Mapping):
        return None
    values = (raw.get("accessKeyId"), raw.get("secretAccessKey"), raw.get("sessionToken"))
    if not all(isinstance(v, str) and v for v in values):
        return None
    access_key_id, secret_access_key, session_token = (str(v) for v in values)
    return ArtifactCredentials(access_key_id, secret_access_key, session_token)
