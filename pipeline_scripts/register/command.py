"""``greenlight register``: the subcommand over :func:`pipeline_scripts.register.register`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline_scripts.register.checks import (
    DEFAULT_CONTENT_TYPE,
    MAX_METADATA_ENTRIES,
    group_gates,
    parse_metadata,
)
from pipeline_scripts.register.create import register
from pipeline_scripts.stack_outputs import DEFAULT_CONFIG


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "register",
        help="register a model version (PendingManualApproval) in a model package group",
        description=(
            "Register a model version in PendingManualApproval, with its inference image, "
            "S3 model artifact, reports and metadata. Nothing is created unless every "
            "argument checks out."
        ),
    )
    _add_version_arguments(parser)
    _add_report_arguments(parser)
    _add_approval_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--region", help="AWS region (default: from the environment)")
    parser.set_defaults(func=_run)


def _add_version_arguments(parser: argparse.ArgumentParser) -> None:
    """The version itself: its group, artifact, image, MIME types and description."""
    parser.add_argument("group", metavar="GROUP", help="model package group name")
    parser.add_argument(
        "--model-data",
        required=True,
        metavar="S3URI",
        help="the model artifact, s3://BUCKET/KEY/model.tar.gz",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", metavar="URI", help="inference image URI in ECR")
    source.add_argument(
        "--framework",
        metavar="NAME",
        help="look the image up with the SageMaker Python SDK, e.g. linear-learner, xgboost",
    )
    parser.add_argument("--framework-version", metavar="V", help="framework version")
    parser.add_argument(
        "--instance-type",
        metavar="TYPE",
        help="picks the CPU or GPU image for frameworks that have both (e.g. ml.m5.large)",
    )
    parser.add_argument(
        "--content-type",
        action="append",
        metavar="MIME",
        help=f"request MIME type the model accepts; repeatable (default {DEFAULT_CONTENT_TYPE})",
    )
    parser.add_argument(
        "--response-type",
        action="append",
        metavar="MIME",
        help=f"response MIME type the model returns; repeatable (default {DEFAULT_CONTENT_TYPE})",
    )
    parser.add_argument("--description", metavar="TEXT", help="version description")
    parser.add_argument(
        "--create-group", action="store_true", help="create the group if it does not exist"
    )


def _add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the governance gates look for reports, and the customer metadata."""
    parser.add_argument(
        "--model-quality", metavar="S3URI", help="model quality statistics (JSON) in S3"
    )
    parser.add_argument("--bias-report", metavar="S3URI", help="bias report (JSON) in S3")
    parser.add_argument(
        "--explainability-report", metavar="S3URI", help="explainability report (JSON) in S3"
    )
    parser.add_argument(
        "--metadata",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help=f"customer metadata, at most {MAX_METADATA_ENTRIES} keys",
    )


def _add_approval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--approve",
        action="store_true",
        help="approve the version right away (refused if the group separates duties)",
    )
    parser.add_argument("--approval-description", metavar="TEXT", help="why it is approved")
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        metavar="PATH",
        help="cdk.json holding the groups' gates, read for --approve (default ./cdk.json)",
    )


def _run(args: argparse.Namespace) -> int:
    gates = group_gates(args.config, args.group) if args.approve else None
    registration = register(
        args.group,
        model_data=args.model_data,
        image=args.image,
        framework=args.framework,
        framework_version=args.framework_version,
        instance_type=args.instance_type,
        content_types=args.content_type or (DEFAULT_CONTENT_TYPE,),
        response_types=args.response_type or (DEFAULT_CONTENT_TYPE,),
        description=args.description,
        create_group=args.create_group,
        model_quality=args.model_quality,
        bias_report=args.bias_report,
        explainability_report=args.explainability_report,
        metadata=parse_metadata(args.metadata),
        approve=args.approve,
        approval_description=args.approval_description,
        gates=gates,
        region=args.region,
    )
    if registration.group_created:
        print(
            f"greenlight: warning: created model package group {args.group}, which no "
            "Greenlight pipeline watches yet: approving its versions deploys nothing until "
            "a platform team adds the group to cdk.json and deploys (README: Platform team)",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(registration.to_json(), indent=2))
    else:
        for label, value in registration.to_json().items():
            if label != "GroupCreated":
                print(f"{label:<22}{value}")
    return 0
