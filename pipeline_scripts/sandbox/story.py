"""The people of a sandbox run and what they see: register, approve, watch, check.

A ``Story`` wraps a running ``Sandbox`` for one model package group. Its verbs are what
the personas do — a data scientist registers a version, a reviewer approves or rejects
it, a reviewer approves a stage — each through a plain boto3 client with that person's
access key. ``settle`` lets the system run (events, functions, pipelines, virtual time)
until it waits for a person. ``expect`` records what must hold; a run with a failed
expectation ends non-zero.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline_scripts.sandbox.accounts import DATA_SCIENTIST_KEY, REVIEWER_KEY
from pipeline_scripts.sandbox.world import Sandbox
from shared import contract
from shared.stage_access import StageTarget

IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"

Say = Callable[[str], None]


@dataclass(frozen=True)
class Version:
    number: int
    arn: str

    def __str__(self) -> str:
        return f"v{self.number}"


@dataclass(frozen=True)
class StageInfo:
    name: str
    endpoint: str
    #: The account the stage's endpoint lives in; None: the tooling account.
    account: str | None = None


@dataclass
class Expectation:
    description: str
    passed: bool
    detail: str = ""


@dataclass
class StoryResult:
    name: str
    expectations: list[Expectation] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    virtual_seconds: float = 0.0
    #: A drill's figures for the reliability table (``promises.Tally``), else None.
    tally: dict[str, int] | None = None

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self.expectations) and bool(self.expectations)

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "passed": self.passed,
            "wallSeconds": round(self.wall_seconds, 3),
            "virtualSeconds": round(self.virtual_seconds, 1),
            "expectations": [
                {"description": e.description, "passed": e.passed, "detail": e.detail}
                for e in self.expectations
            ],
            "steps": self.steps,
            **({"reliability": self.tally} if self.tally is not None else {}),
        }


class Story:
    def __init__(self, sandbox: Sandbox, *, name: str, say: Say | None = None) -> None:
        self.sandbox = sandbox
        self.result = StoryResult(name=name)
        self._say = say or (lambda _line: None)
        pipeline = sandbox.app.pipelines[0]
        self.pipeline = pipeline.name
        self.group = sandbox.app.model_package_groups[0]
        self.stages = _stages(pipeline.declaration)
        self._started = time.perf_counter()
        self._virtual_start = sandbox.clock.now()
        self._registered = 0

    # --- narration -------------------------------------------------------------------

    def say(self, text: str) -> None:
        elapsed = self.sandbox.clock.now() - self._virtual_start
        minutes, seconds = divmod(int(elapsed.total_seconds()), 60)
        line = f"[+{minutes:3d}m{seconds:02d}s] {text}"
        self.result.steps.append(line)
        self._say(line)

    def expect(self, description: str, passed: bool, detail: str = "") -> bool:
        self.result.expectations.append(Expectation(description, passed, detail))
        mark = "ok  " if passed else "FAIL"
        self._say(f"    {mark} {description}" + (f" ({detail})" if detail and not passed else ""))
        return passed

    def finish(self) -> StoryResult:
        self.result.wall_seconds = time.perf_counter() - self._started
        self.result.virtual_seconds = (
            self.sandbox.clock.now() - self._virtual_start
        ).total_seconds()
        return self.result

    # --- what people do ------------------------------------------------------------------

    def register(self, note: str, **behaviour: Any) -> Version:
        """A data scientist registers a version, PendingManualApproval. ``behaviour``
        declares how it behaves once it serves traffic (see EmulatedSageMaker)."""
        self._registered += 1
        sagemaker = self.sandbox.client("sagemaker", access_key=DATA_SCIENTIST_KEY)
        arn = sagemaker.create_model_package(
            ModelPackageGroupName=self.group,
            ModelPackageDescription=note,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": IMAGE,
                        "ModelDataUrl": f"s3://greenlight-sandbox-models/{self.group}/"
                        f"{self._registered}/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
        version = Version(int(arn.rsplit("/", 1)[-1]), arn)
        if behaviour:
            self.sandbox.sagemaker.declare_behaviour(arn, **behaviour)
        self.say(f"data scientist registers {version}: {note}")
        self.settle()
        return version

    def approve(self, version: Version, description: str = "metrics reviewed") -> None:
        self._review(version, "Approved", description)

    def reject(self, version: Version, description: str) -> None:
        self._review(version, "Rejected", description)

    def _review(self, version: Version, status: str, description: str) -> None:
        sagemaker = self.sandbox.client("sagemaker", access_key=REVIEWER_KEY)
        sagemaker.update_model_package(
            ModelPackageArn=version.arn,
            ModelApprovalStatus=status,
            ApprovalDescription=description,
        )
        self.say(f"reviewer sets {version} to {status}: {description}")

    def approve_stages(self) -> int:
        """The reviewer approves every manual approval that is waiting; how many."""
        codepipeline = self.sandbox.client("codepipeline", access_key=REVIEWER_KEY)
        state = codepipeline.get_pipeline_state(name=self.pipeline)
        approved = 0
        for stage in state["stageStates"]:
            for action in stage["actionStates"]:
                token = action.get("latestExecution", {}).get("token")
                if not token:
                    continue
                execution = stage.get("latestExecution", {}).get("pipelineExecutionId", "")
                version = self._version_of(execution)
                self.say(f"reviewer approves {stage['stageName']} for {version}")
                codepipeline.put_approval_result(
                    pipelineName=self.pipeline,
                    stageName=stage["stageName"],
                    actionName=action["actionName"],
                    result={"summary": f"go ahead with {version}", "status": "Approved"},
                    token=token,
                )
                approved += 1
        return approved

    def settle(self, *, approve_stages: bool = False) -> None:
        """Let everything run until it waits for a person; with ``approve_stages`` the
        reviewer approves each manual approval as it comes up."""
        while True:
            self.sandbox.settle()
            if not approve_stages or not self.approve_stages():
                return

    # --- what people read ----------------------------------------------------------------

    def live(self, stage: str) -> int | None:
        """The version the stage's endpoint serves now (from its live config)."""
        info = self.stage(stage)
        endpoint = info.endpoint
        sagemaker = self.sandbox.client("sagemaker", account=info.account)
        try:
            described = sagemaker.describe_endpoint(EndpointName=endpoint)
        except sagemaker.exceptions.ClientError:
            return None
        config = sagemaker.describe_endpoint_config(
            EndpointConfigName=described["EndpointConfigName"]
        )
        model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
        containers = model.get("Containers") or [model.get("PrimaryContainer", {})]
        arn = containers[0].get("ModelPackageName", "")
        return int(arn.rsplit("/", 1)[-1]) if arn else None

    def stage(self, name: str) -> StageInfo:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no deployment stage {name!r} in {self.pipeline}")

    @property
    def first_stage(self) -> str:
        return self.stages[0].name

    @property
    def last_stage(self) -> str:
        return self.stages[-1].name

    def outcomes(self) -> list[dict[str, Any]]:
        """The trigger's recorded outcomes, oldest first."""
        dynamodb = self.sandbox.client("dynamodb")
        table = next(iter(self.sandbox.app.tables))
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            items.extend(page["Items"])
        events = [
            {key: next(iter(value.values())) for key, value in item.items()}
            for item in items
            if item["sk"]["S"].startswith("EVENT#")
        ]
        return sorted(events, key=lambda e: str(e.get("receivedAt") or e.get("at") or ""))

    def outcome_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self.outcomes():
            outcome = str(record.get("outcome"))
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    def executions(self) -> list[dict[str, Any]]:
        codepipeline = self.sandbox.client("codepipeline")
        summaries: list[dict[str, Any]] = []
        for page in codepipeline.get_paginator("list_pipeline_executions").paginate(
            pipelineName=self.pipeline
        ):
            summaries.extend(page["pipelineExecutionSummaries"])
        return summaries

    def started_executions(self) -> list[dict[str, Any]]:
        """Executions something started: all but the one CodePipeline starts by itself
        when it creates the pipeline (it carries no model version and deploys nothing)."""
        return [
            e
            for e in self.executions()
            if e.get("trigger", {}).get("triggerType") != "CreatePipeline"
        ]

    def failures(self, stage: str) -> list[str]:
        """Summaries of the actions that failed in ``stage``, newest first."""
        codepipeline = self.sandbox.client("codepipeline")
        messages = []
        for page in codepipeline.get_paginator("list_action_executions").paginate(
            pipelineName=self.pipeline
        ):
            for action in page["actionExecutionDetails"]:
                if action["stageName"] == stage and action["status"] == "Failed":
                    result = action.get("output", {}).get("executionResult", {})
                    messages.append(str(result.get("externalExecutionSummary", "")))
        return messages

    def _version_of(self, execution_id: str) -> str:
        if not execution_id:
            return "?"
        execution = self.sandbox.codepipeline.execution_record(execution_id)
        return f"v{execution.variables.get(contract.VAR_MODEL_PACKAGE_VERSION, '?')}"


def _stages(declaration: dict[str, Any]) -> list[StageInfo]:
    stages = []
    for stage in declaration["stages"]:
        for action in stage["actions"]:
            if action["name"] != contract.ACTION_DEPLOY:
                continue
            parameters = json.loads(action["configuration"]["UserParameters"])
            account = StageTarget.from_parameters(parameters).account or None
            stages.append(
                StageInfo(name=stage["name"], endpoint=parameters["endpointName"], account=account)
            )
    return stages
