"""Inference image lookup through the SageMaker Python SDK's image URI tables.

The SDK ships, for every built-in algorithm and framework container, the ECR account per
region and the tags per version, so the lookup needs no AWS call and no network. The SDK
is an optional extra (``pip install 'greenlight[sdk]'``); without it, registering with an
explicit image URI still works.

Version 3 of the SDK keeps the lookup in ``sagemaker.core.image_uris``; version 2 keeps it
in ``sagemaker.image_uris``. Both take the same arguments.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import warnings
from collections.abc import Callable, Iterator
from typing import Final

from pipeline_scripts.errors import UsageError

#: How a user gets the SDK; quoted in the error raised when it is missing.
SDK_INSTALL_HINT: Final = "pip install 'greenlight[sdk]'"

#: Where the lookup lives, newest SDK layout first.
SDK_LOOKUP_MODULES: Final = ("sagemaker.core.image_uris", "sagemaker.image_uris")

#: Every registered version is an inference image.
IMAGE_SCOPE: Final = "inference"

_SDK_CONFIG_LOGGER: Final = "sagemaker.config"


class SdkNotInstalled(UsageError):
    """``--framework`` was asked for, but the SageMaker Python SDK is not importable."""

    def __init__(self, framework: str) -> None:
        super().__init__(
            f"--framework {framework} needs the SageMaker Python SDK to look up its image: "
            f"install it with {SDK_INSTALL_HINT}, or pass the image URI with --image"
        )


class ImageLookupError(UsageError):
    """The SDK has no image for this framework, version, region or instance type."""


def framework_image_uri(
    framework: str,
    *,
    region: str,
    version: str | None = None,
    instance_type: str | None = None,
) -> str:
    """The ECR URI of ``framework``'s inference image in ``region``.

    ``version`` picks a framework version (built-in algorithms such as linear-learner
    have a single one and need none); ``instance_type`` picks the CPU or GPU image for
    the frameworks that build both. Raises ``SdkNotInstalled`` when the SDK is missing and
    ``ImageLookupError`` naming the framework, version, region or instance type the SDK
    does not know.
    """
    retrieve = _sdk_retrieve(framework)
    try:
        uri = retrieve(
            framework,
            region,
            version=version,
            instance_type=instance_type,
            image_scope=IMAGE_SCOPE,
        )
    except FileNotFoundError as error:
        raise ImageLookupError(
            f"unknown --framework {framework!r}: the SageMaker Python SDK has no image "
            "table for it (built-in algorithms are named like 'linear-learner', 'xgboost')"
        ) from error
    except ValueError as error:
        raise ImageLookupError(_explain(framework, region, version, str(error))) from error
    if not isinstance(uri, str) or not uri:
        raise ImageLookupError(f"the SageMaker Python SDK returned no image for {framework!r}")
    return uri


def _sdk_retrieve(framework: str) -> Callable[..., object]:
    config_logger = logging.getLogger(_SDK_CONFIG_LOGGER)
    if config_logger.level == logging.NOTSET:
        # The SDK logs where it looked for its defaults file on stdout at INFO, which
        # would land in the middle of ``--json`` output.
        config_logger.setLevel(logging.WARNING)
    for name in SDK_LOOKUP_MODULES:
        try:
            with _sdk_quiet():
                module = importlib.import_module(name)
        except ImportError:
            continue
        retrieve = getattr(module, "retrieve", None)
        if callable(retrieve):
            return _quietly(retrieve)
    raise SdkNotInstalled(framework)


@contextlib.contextmanager
def _sdk_quiet() -> Iterator[None]:
    """Keep the SDK's import-time notices (version 2 announces its deprecation, through
    both ``warnings`` and its logger) out of the command's output; errors still show."""
    sdk_logger = logging.getLogger("sagemaker")
    previous = sdk_logger.level
    sdk_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sdk_logger.setLevel(previous)


def _quietly(retrieve: Callable[..., object]) -> Callable[..., object]:
    def call(*args: object, **kwargs: object) -> object:
        with _sdk_quiet():
            return retrieve(*args, **kwargs)

    return call


def _explain(framework: str, region: str, version: str | None, sdk_message: str) -> str:
    detail = sdk_message.split(" You may need to upgrade", 1)[0]
    supported = ""
    if "Supported " in sdk_message:
        supported = " (" + sdk_message[sdk_message.index("Supported ") :].rstrip(".") + ")"
    if detail.startswith("Unsupported region"):
        return f"unknown --region {region!r}: no {framework} image there{supported}"
    if "version" in detail and detail.startswith("Unsupported"):
        shown = version if version is not None else "(none given)"
        return f"unknown --framework-version {shown} for {framework}{supported}"
    if "instance type" in detail.lower():
        return (
            f"--framework {framework} has CPU and GPU images: pass --instance-type "
            "(e.g. ml.m5.large) to choose one"
        )
    return f"cannot look up the {framework} image: {sdk_message}"
