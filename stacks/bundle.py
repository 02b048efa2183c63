"""The pipeline's source: a deploy bundle generated from the configuration.

The bundle is a zip holding ``contract.BUNDLE_FILE``: every stage's settings and its
smoke test, shaped ``{"stages": {"<stage>": {"smokeTest": {...}, ...}}}``.

How it reaches S3: the JSON is written at synth time into a folder of the cloud
assembly and published as an ``aws_s3_assets.Asset`` (CDK zips a folder itself, no
Docker, no lookups). The asset lands in the CDK bootstrap bucket, which the bootstrap
template creates versioned, as a CodePipeline S3 source requires. The object key is the
content hash, so a configuration change publishes a new object and the pipeline's
source action points at it after ``cdk deploy``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from aws_cdk import Stage
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from shared import contract
from shared.config import ModelGroupConfig

BUNDLE_DIR_NAME = "greenlight-bundles"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _camelise(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel(str(k)): _camelise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_camelise(v) for v in value]
    return value


def bundle_document(group: ModelGroupConfig) -> dict[str, Any]:
    """The content of ``contract.BUNDLE_FILE`` for one group."""
    stages: dict[str, Any] = {}
    for stage in group.stages:
        stages[stage.name] = {
            "endpointName": stage.endpoint_name,
            "instanceType": stage.instance_type,
            "instanceCount": stage.instance_count,
            "rollout": _camelise(asdict(stage.rollout)),
            "alarms": _camelise(asdict(stage.alarms)),
            "bakeMinutes": stage.bake_minutes,
            "manualApprovalBefore": stage.manual_approval_before,
            "smokeTest": _camelise(asdict(stage.smoke_test)),
        }
    return {"group": group.name, "stages": stages}


class DeployBundle(Construct):
    """Exposes ``asset`` (bucket + object key of the zipped bundle)."""

    def __init__(self, scope: Construct, construct_id: str, *, group: ModelGroupConfig) -> None:
        super().__init__(scope, construct_id)
        folder = Path(Stage.of(self).outdir) / BUNDLE_DIR_NAME / group.name  # type: ignore[union-attr]
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(bundle_document(group), indent=2, sort_keys=True) + "\n"
        (folder / contract.BUNDLE_FILE).write_text(text, encoding="utf-8")
        self.asset = s3_assets.Asset(self, "Asset", path=str(folder))
