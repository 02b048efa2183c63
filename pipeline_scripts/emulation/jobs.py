"""The CodePipeline job API for Lambda invoke actions, and a driver for action handlers.

What real AWS does (CodePipeline user guide, "Invoke an AWS Lambda function in a
pipeline"; API reference PutJobSuccessResult / PutJobFailureResult):

- CodePipeline invokes the function asynchronously with ``{"CodePipeline.job": {"id",
  "accountId", "data": {"actionConfiguration": {"configuration": {"FunctionName",
  "UserParameters"}}, "inputArtifacts", "outputArtifacts", "artifactCredentials",
  "continuationToken"?, "encryptionKey"?}}}``. ``UserParameters`` arrive with pipeline
  variables such as ``#{variables.ModelPackageArn}`` already resolved.
- The function must answer with PutJobSuccessResult or PutJobFailureResult. Each job
  accepts one answer: a second one is refused with InvalidJobStateException, an unknown
  job id with JobNotFoundException.
- A success carrying ``continuationToken`` keeps the action in progress: CodePipeline
  invokes the function again, as a new job with a new id, passing the token back in
  ``data.continuationToken``. A success without a token completes the action, with its
  ``outputVariables``; a failure fails it with ``failureDetails.message``.
- No answer within 20 minutes times the action out.
- A function that Lambda stopped at its timeout sends nothing: ``before_answer`` (the
  sandbox's ``LambdaRuntime.check_deadline``) stops an answer sent past the deadline.

This module records answers instead of sending them, validates them as the API does,
builds job events of that shape, and drives a handler through its continuations.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.exceptions import ClientError

from shared import contract

DEFAULT_ACCOUNT: Final = "123456789012"
_FAILURE_TYPES: Final = frozenset(
    {
        "JobFailed",
        "ConfigurationError",
        "PermissionError",
        "RevisionOutOfSync",
        "RevisionUnavailable",
        "SystemUnavailable",
    }
)
_VARIABLE_KEY: Final = re.compile(r"[A-Za-z0-9@\-_]+")


@dataclass(frozen=True, kw_only=True)
class JobAnswer:
    """One PutJobSuccessResult or PutJobFailureResult, as recorded."""

    job_id: str
    status: str  # Succeeded | InProgress | Failed
    continuation_token: str | None = None
    output_variables: Mapping[str, str] = field(default_factory=dict)
    summary: str | None = None
    message: str | None = None
    failure_type: str | None = None
    external_execution_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class Artifact:
    """An input artifact: a zip in S3."""

    name: str
    bucket: str
    key: str
    revision: str | None = None


@dataclass(frozen=True, kw_only=True)
class Credentials:
    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)


class EmulatedJobs:
    """PutJobSuccessResult / PutJobFailureResult with the API's validation, recorded."""

    def __init__(self, *, before_answer: Callable[[], None] | None = None) -> None:
        self._open: set[str] = set()
        self._before_answer = before_answer
        self.answers: dict[str, JobAnswer] = {}

    def open_job(self, job_id: str | None = None) -> str:
        """Register a job CodePipeline is about to hand to an action."""
        job_id = job_id or str(uuid.uuid4())
        self._open.add(job_id)
        return job_id

    def put_job_success_result(
        self,
        *,
        jobId: str,
        currentRevision: Mapping[str, Any] | None = None,
        continuationToken: str | None = None,
        executionDetails: Mapping[str, Any] | None = None,
        outputVariables: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        operation = "PutJobSuccessResult"
        self._check_open(jobId, operation)
        details = dict(executionDetails or {})
        summary = details.get("summary")
        if summary is not None and not 1 <= len(summary) <= 2048:
            raise _error(operation, "ValidationException", "executionDetails.summary: 1..2048")
        if continuationToken is not None and not 1 <= len(continuationToken) <= 2048:
            raise _error(operation, "ValidationException", "continuationToken: 1..2048")
        if continuationToken is not None and outputVariables:
            raise _error(
                operation,
                "ValidationException",
                "outputVariables can only be set on the final result, without continuationToken",
            )
        variables = dict(outputVariables or {})
        for key, value in variables.items():
            if not _VARIABLE_KEY.fullmatch(key) or not isinstance(value, str):
                raise _error(operation, "ValidationException", f"outputVariables key {key!r}")
        if sum(len(k.encode()) + len(v.encode()) for k, v in variables.items()) > 122880:
            raise _error(
                operation, "OutputVariablesSizeExceededException", "output variables too large"
            )
        self._open.discard(jobId)
        self.answers[jobId] = JobAnswer(
            job_id=jobId,
            status=contract.STATUS_IN_PROGRESS if continuationToken else contract.STATUS_SUCCEEDED,
            continuation_token=continuationToken,
            output_variables=variables,
            summary=summary,
            external_execution_id=details.get("externalExecutionId"),
        )
        return {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def put_job_failure_result(
        self,
        *,
        jobId: str,
        failureDetails: Mapping[str, Any],
    ) -> dict[str, Any]:
        operation = "PutJobFailureResult"
        self._check_open(jobId, operation)
        failure_type = failureDetails.get("type")
        message = failureDetails.get("message")
        if failure_type not in _FAILURE_TYPES:
            raise _error(operation, "ValidationException", f"failureDetails.type {failure_type!r}")
        if not isinstance(message, str) or not 1 <= len(message) <= 5000:
            raise _error(operation, "ValidationException", "failureDetails.message: 1..5000")
        self._open.discard(jobId)
        self.answers[jobId] = JobAnswer(
            job_id=jobId,
            status=contract.STATUS_FAILED,
            message=message,
            failure_type=failure_type,
            external_execution_id=failureDetails.get("externalExecutionId"),
        )
        return {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def _check_open(self, job_id: str, operation: str) -> None:
        if self._before_answer is not None:
            self._before_answer()
        if job_id in self.answers:
            raise _error(
                operation,
                "InvalidJobStateException",
                f"Job {job_id} is already in state {self.answers[job_id].status}",
            )
        if job_id not in self._open:
            raise _error(operation, "JobNotFoundException", f"Job {job_id} not found")


def job_event(
    *,
    job_id: str,
    user_parameters: str,
    function_name: str = "greenlight-action",
    account_id: str = DEFAULT_ACCOUNT,
    input_artifacts: Sequence[Artifact] = (),
    credentials: Credentials | None = None,
    continuation_token: str | None = None,
) -> dict[str, Any]:
    """A Lambda invoke action's event, shaped as CodePipeline sends it."""
    credentials = credentials or Credentials(
        access_key_id="ASIAEXAMPLEARTIFACTS",
        secret_access_key="artifact-secret-example",  # noqa: S106 - a fake credential
        session_token="artifact-session-example",  # noqa: S106 - a fake credential
    )
    data: dict[str, Any] = {
        "actionConfiguration": {
            "configuration": {"FunctionName": function_name, "UserParameters": user_parameters}
        },
        "inputArtifacts": [
            {
                "name": artifact.name,
                "revision": artifact.revision,
                "location": {
                    "type": "S3",
                    "s3Location": {"bucketName": artifact.bucket, "objectKey": artifact.key},
                },
            }
            for artifact in input_artifacts
        ],
        "outputArtifacts": [],
        "artifactCredentials": {
            "accessKeyId": credentials.access_key_id,
            "secretAccessKey": credentials.secret_access_key,
            "sessionToken": credentials.session_token,
        },
    }
    if continuation_token is not None:
        data["continuationToken"] = continuation_token
    return {"CodePipeline.job": {"id": job_id, "accountId": account_id, "data": data}}


@dataclass(frozen=True, kw_only=True)
class ActionRun:
    """How an action ended after the driver invoked it, possibly several times."""

    status: str  # Succeeded | Failed | TimedOut | NoAnswer
    answers: tuple[JobAnswer, ...]
    events: tuple[dict[str, Any], ...]

    @property
    def invocations(self) -> int:
        return len(self.events)

    @property
    def final(self) -> JobAnswer | None:
        return self.answers[-1] if self.answers else None

    @property
    def output_variables(self) -> Mapping[str, str]:
        final = self.final
        return final.output_variables if final else {}

    @property
    def message(self) -> str | None:
        final = self.final
        return final.message if final else None


Handler = Callable[[dict[str, Any], Any], Any]


def drive(
    handler: Handler,
    jobs: EmulatedJobs,
    *,
    user_parameters: str,
    function_name: str = "greenlight-action",
    input_artifacts: Sequence[Artifact] = (),
    credentials: Credentials | None = None,
    max_invocations: int = 50,
    between: Callable[[], None] | None = None,
) -> ActionRun:
    """Invoke ``handler`` as CodePipeline would: once, then again with each
    continuation token, until it succeeds, fails, gives no answer, or
    ``max_invocations`` is reached (status TimedOut). ``between`` runs before each
    re-invocation (for instance to let virtual time pass)."""
    answers: list[JobAnswer] = []
    events: list[dict[str, Any]] = []
    token: str | None = None
    for invocation in range(max_invocations):
        if invocation and between is not None:
            between()
        job_id = jobs.open_job()
        event = job_event(
            job_id=job_id,
            user_parameters=user_parameters,
            function_name=function_name,
            input_artifacts=input_artifacts,
            credentials=credentials,
            continuation_token=token,
        )
        events.append(event)
        handler(event, None)
        answer = jobs.answers.get(job_id)
        if answer is None:
            return ActionRun(status="NoAnswer", answers=tuple(answers), events=tuple(events))
        answers.append(answer)
        if answer.status != contract.STATUS_IN_PROGRESS:
            return ActionRun(status=answer.status, answers=tuple(answers), events=tuple(events))
        token = answer.continuation_token
    return ActionRun(status="TimedOut", answers=tuple(answers), events=tuple(events))


def _error(operation: str, code: str, message: str) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    return ClientError(response, operation)
