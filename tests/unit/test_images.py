"""Inference image lookup through the SageMaker Python SDK's offline tables."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from pipeline_scripts.errors import EXIT_USAGE
from pipeline_scripts.images import (
    SDK_LOOKUP_MODULES,
    ImageLookupError,
    SdkNotInstalled,
    framework_image_uri,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hide_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the SageMaker Python SDK unimportable, as if it were not installed."""
    for name in ("sagemaker", *SDK_LOOKUP_MODULES):
        monkeypatch.setitem(sys.modules, name, None)


def test_linear_learner_in_us_east_1_is_the_published_image() -> None:
    # WHEN looking up the built-in linear-learner algorithm in us-east-1
    uri = framework_image_uri("linear-learner", region="us-east-1")

    # THEN it is the image AWS documents for that region
    assert uri == "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


def test_the_region_chooses_the_account_and_registry_of_the_image() -> None:
    # WHEN looking up linear-learner in eu-west-1
    uri = framework_image_uri("linear-learner", region="eu-west-1")

    # THEN the registry is that region's
    assert uri == "438346466558.dkr.ecr.eu-west-1.amazonaws.com/linear-learner:1"


def test_a_framework_version_chooses_the_image_tag() -> None:
    # WHEN looking up xgboost 1.7-1
    uri = framework_image_uri("xgboost", region="us-east-1", version="1.7-1")

    # THEN the tag is that version
    assert uri == "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def test_an_instance_type_chooses_between_cpu_and_gpu_images() -> None:
    # WHEN looking up the same PyTorch version for a CPU and a GPU instance
    cpu = framework_image_uri(
        "pytorch", region="us-east-1", version="2.1", instance_type="ml.m5.large"
    )
    gpu = framework_image_uri(
        "pytorch", region="us-east-1", version="2.1", instance_type="ml.g5.xlarge"
    )

    # THEN they are the inference images for each
    assert cpu == "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1-cpu-py310"
    assert gpu == "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1-gpu-py310"


def test_a_framework_with_cpu_and_gpu_images_asks_for_an_instance_type() -> None:
    # WHEN PyTorch is looked up without an instance type
    with pytest.raises(ImageLookupError) as raised:
        framework_image_uri("pytorch", region="us-east-1", version="2.1")

    # THEN it says which option decides
    assert str(raised.value) == (
        "--framework pytorch has CPU and GPU images: pass --instance-type (e.g. ml.m5.large) "
        "to choose one"
    )


def test_an_unknown_framework_is_named() -> None:
    # WHEN the framework has no table in the SDK
    with pytest.raises(ImageLookupError) as raised:
        framework_image_uri("linear-learnr", region="us-east-1")

    # THEN the message names it
    assert str(raised.value).startswith("unknown --framework 'linear-learnr': the SageMaker")


def test_an_unknown_version_is_named_with_the_supported_ones() -> None:
    # WHEN xgboost is asked for a version that was never published
    with pytest.raises(ImageLookupError) as raised:
        framework_image_uri("xgboost", region="us-east-1", version="9.9-9")

    # THEN the message names the version and lists the known ones
    message = str(raised.value)
    assert message.startswith("unknown --framework-version 9.9-9 for xgboost (Supported ")
    assert "1.7-1" in message


def test_an_unknown_region_is_named() -> None:
    # WHEN the region is not in the SDK's table
    with pytest.raises(ImageLookupError) as raised:
        framework_image_uri("linear-learner", region="mars-north-1")

    # THEN the message names the region
    assert str(raised.value).startswith(
        "unknown --region 'mars-north-1': no linear-learner image there (Supported region(s): "
    )


def test_lookup_errors_exit_with_the_usage_code() -> None:
    # THEN a bad framework, version or region is the caller's to fix
    assert ImageLookupError.exit_code == EXIT_USAGE
    assert SdkNotInstalled.exit_code == EXIT_USAGE


def test_a_fresh_process_looking_up_an_image_prints_nothing() -> None:
    # GIVEN a new interpreter, so the SDK is imported for the first time (it then logs its
    # config search on stdout and announces the v2 deprecation on stderr by default)
    program = (
        "from pipeline_scripts.images import framework_image_uri\n"
        "framework_image_uri('linear-learner', region='us-east-1')\n"
    )

    # WHEN it looks up an image
    run = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env={k: v for k, v in os.environ.items() if k != "SAGEMAKER_SUPPRESS_V2_WARNING"},
    )

    # THEN stdout stays clean for --json output, and stderr for errors
    assert (run.stdout, run.stderr) == ("", "")


def test_without_the_sdk_the_lookup_says_how_to_install_it(hide_sdk: None) -> None:
    # GIVEN the SDK cannot be imported
    # WHEN a framework is looked up
    with pytest.raises(SdkNotInstalled) as raised:
        framework_image_uri("linear-learner", region="us-east-1")

    # THEN the message gives the install command and the alternative
    assert str(raised.value) == (
        "--framework linear-learner needs the SageMaker Python SDK to look up its image: "
        "install it with pip install 'greenlight[sdk]', or pass the image URI with --image"
    )


def test_the_version_3_layout_is_preferred_and_asked_for_an_inference_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN an SDK laid out like version 3 (sagemaker.core.image_uris)
    calls: list[tuple[tuple[object, ...], dict[str, object]]] = []

    def retrieve(*args: object, **kwargs: object) -> str:
        calls.append((args, kwargs))
        return "111122223333.dkr.ecr.us-east-1.amazonaws.com/from-v3:1"

    module = types.ModuleType("sagemaker.core.image_uris")
    module.retrieve = retrieve  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sagemaker.core.image_uris", module)

    # WHEN an image is looked up
    uri = framework_image_uri("linear-learner", region="us-east-1", version="1")

    # THEN the version 3 lookup answered, asked for the inference image of that version
    assert uri == "111122223333.dkr.ecr.us-east-1.amazonaws.com/from-v3:1"
    assert calls == [
        (
            ("linear-learner", "us-east-1"),
            {"version": "1", "instance_type": None, "image_scope": "inference"},
        )
    ]
