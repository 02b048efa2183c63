"""Smoke-test one stage's endpoint: one request with the stage's payload from the source
bundle, then four checks, each named in the failure message with what was observed:

- ``status``: InvokeEndpoint answered (no ModelError, validation or throttling error);
- ``content type``: the response's ContentType is the expected one;
- ``body``: the whole body matches the expected pattern;
- ``latency``: the call took no longer than the budget (measured with the clock).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from shared import contract
from shared.clock import Clock, current_clock
from shared.jobs import (
    Failed,
    JobResult,
    PipelineJob,
    Succeeded,
    describe_error,
    nothing_to_deploy,
    run_job,
    truncate,
)
from shared.parameters import SmokeTestParameters, SmokeTestSpec
from shared.stage_access import stage_clients

if TYPE_CHECKING:
    from mypy_boto3_codepipeline import CodePipelineClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient

ACTION: Final = contract.ACTION_SMOKE_TEST
_OBSERVED_CHARS: Final = 300
_SPEC_FIELDS: Final = {
    "payload": "payload",
    "contentType": "content_type",
    "accept": "accept",
    "expectedContentType": "expected_content_type",
    "expectedPattern": "expected_pattern",
    "latencyBudgetMs": "latency_budget_ms",
    "extra": "extra",
}


class BundleError(ValueError):
    """The source bundle lacks this stage's smoke test, or holds a bad one."""


@dataclass(frozen=True, kw_only=True)
class CheckFailure:
    check: str
    observed: str
    expected: str

    def describe(self) -> str:
        return f"{self.check} check failed: got {self.observed}, expected {self.expected}"


def run(
    event: Mapping[str, Any],
    *,
    codepipeline: CodePipelineClient | None = None,
    runtime: SageMakerRuntimeClient | None = None,
    s3: S3Client | None = None,
    clock: Clock | None = None,
) -> dict[str, str]:
    """Handle one SmokeTest invocation and report its result to CodePipeline."""
    clock = clock or current_clock()

    def action(job: PipelineJob) -> JobResult:
        return smoke_test(
            job,
            runtime=runtime or stage_clients(job.user_parameters).client("sagemaker-runtime"),
            s3=s3 or _artifact_s3(job),
            clock=clock,
        )

    return run_job(event, action, action_name=ACTION, codepipeline=codepipeline, clock=clock)


def smoke_test(
    job: PipelineJob, *, runtime: SageMakerRuntimeClient, s3: S3Client, clock: Clock
) -> JobResult:
    params = SmokeTestParameters.from_json(job.user_parameters)
    if not params.has_model_version:
        return nothing_to_deploy(contract.ACTION_SMOKE_TEST, params.stage)
    artifact = job.input_artifact(
        contract.SOURCE_ARTIFACT if len(job.input_artifacts) > 1 else None
    )
    raw = s3.get_object(Bucket=artifact.location.bucket, Key=artifact.location.key)["Body"].read()
    spec = spec_from_bundle(raw, params.stage)
    failures = check_endpoint(params.endpoint_name, spec, runtime=runtime, clock=clock)
    if failures:
        return Failed(
            message=f"smoke test of {params.endpoint_name} ({params.stage}): "
            + "; ".join(failure.describe() for failure in failures)
        )
    return Succeeded(
        summary=f"smoke test of {params.endpoint_name} ({params.stage}) passed all checks"
    )


def check_endpoint(
    endpoint_name: str, spec: SmokeTestSpec, *, runtime: SageMakerRuntimeClient, clock: Clock
) -> list[CheckFailure]:
    """Every check that failed (status failing makes the others meaningless)."""
    started = clock.now()
    try:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint_name,
            Body=spec.payload.encode(),
            ContentType=spec.content_type,
            Accept=spec.accept,
        )
    except Exception as error:
        if getattr(error, "response", None) is None:
            raise
        status = _status_of(error)
        return [CheckFailure(check="status", observed=status, expected="a 200 response")]
    elapsed_ms = (clock.now() - started).total_seconds() * 1000
    body = response["Body"].read().decode("utf-8", errors="replace")
    failures: list[CheckFailure] = []
    content_type = response.get("ContentType", "")
    if _media_type(content_type) != _media_type(spec.expected_content_type):
        failures.append(
            CheckFailure(
                check="content type",
                observed=repr(content_type),
                expected=repr(spec.expected_content_type),
            )
        )
    if re.fullmatch(spec.expected_pattern, body, flags=re.DOTALL) is None:
        failures.append(
            CheckFailure(
                check="body",
                observed=repr(truncate(body, _OBSERVED_CHARS)),
                expected=f"a match for {spec.expected_pattern!r}",
            )
        )
    if elapsed_ms > spec.latency_budget_ms:
        failures.append(
            CheckFailure(
                check="latency",
                observed=f"{elapsed_ms:.0f} ms",
                expected=f"at most {spec.latency_budget_ms} ms",
            )
        )
    return failures


def spec_from_bundle(archive: bytes, stage: str) -> SmokeTestSpec:
    """The stage's SmokeTestSpec from the source bundle zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
            document = json.loads(bundle.read(contract.BUNDLE_FILE))
    except KeyError:
        raise BundleError(f"source bundle has no {contract.BUNDLE_FILE}") from None
    except (zipfile.BadZipFile, ValueError) as error:
        raise BundleError(f"source bundle {contract.BUNDLE_FILE}: {error}") from None
    path = f"{contract.BUNDLE_FILE}: stages.{stage}.smokeTest"
    stages = document.get("stages") if isinstance(document, dict) else None
    entry = stages.get(stage) if isinstance(stages, dict) else None
    raw = entry.get("smokeTest") if isinstance(entry, dict) else None
    if not isinstance(raw, dict):
        raise BundleError(f"{path}: missing")
    unknown = sorted(set(raw) - set(_SPEC_FIELDS))
    if unknown:
        raise BundleError(f"{path}: unknown key(s) {', '.join(unknown)}")
    if not isinstance(raw.get("payload"), str):
        raise BundleError(f"{path}.payload: expected a string")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "latencyBudgetMs" and (
            not isinstance(value, int) or isinstance(value, bool) or value <= 0
        ):
            raise BundleError(f"{path}.latencyBudgetMs: expected a positive integer")
        if key == "expectedPattern":
            try:
                re.compile(value)
            except (re.error, TypeError) as error:
                raise BundleError(f"{path}.expectedPattern: not a pattern ({error})") from None
        values[_SPEC_FIELDS[key]] = value
    return SmokeTestSpec(**values)


def _status_of(error: Exception) -> str:
    response: dict[str, Any] = getattr(error, "response", {})
    err = response.get("Error", {})
    code = err.get("Code", type(error).__name__)
    http = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    original = response.get("OriginalStatusCode")
    parts = [str(code)]
    if original:
        parts.append(f"model status {original}")
    elif http:
        parts.append(f"HTTP {http}")
    message = err.get("Message") or describe_error(error)
    return f"{' '.join(parts)} ({truncate(str(message), _OBSERVED_CHARS)})"


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _artifact_s3(job: PipelineJob) -> S3Client:
    """An S3 client on the job's artifact credentials (the function's own role may not
    read the artifact bucket)."""
    from shared import clients  # noqa: PLC0415 - created on first use, never at import

    if job.credentials is None:
        client: S3Client = clients.client("s3")
        return client
    import boto3  # noqa: PLC0415

    return boto3.client(
        "s3",
        aws_access_key_id=job.credentials.access_key_id,
        aws_secret_access_key=job.credentials.secret_access_key,
        aws_session_token=job.credentials.session_token,
    )
