"""What Greenlight writes back to the registry is a CustomerMetadataProperties value
SageMaker accepts: only letters, separators, digits and ``_.:/=+-@``, 1 to 256 long."""

from __future__ import annotations

import botocore.session
import pytest

from pipeline_scripts.emulation.java_regex import java_pattern
from shared.metadata import METADATA_VALUE_MAX, metadata_value

#: The value shape of UpdateModelPackage's CustomerMetadataProperties, as AWS checks it.
_VALUE_SHAPE = (
    botocore.session.get_session()
    .get_service_model("sagemaker")
    .operation_model("UpdateModelPackage")
    .input_shape.members["CustomerMetadataProperties"]
    .value  # type: ignore[attr-defined]
)


def _accepted(value: str) -> bool:
    low, high = _VALUE_SHAPE.metadata["min"], _VALUE_SHAPE.metadata["max"]
    pattern = java_pattern(_VALUE_SHAPE.metadata["pattern"])
    return low <= len(value) <= high and pattern.fullmatch(value) is not None


@pytest.mark.parametrize(
    "text",
    [
        "required report(s) missing from ModelMetrics: ModelQuality, Bias",
        "separation of duties: the approver is unknown (no LastModifiedBy)",
        "required report(s) missing from ModelMetrics: Bias; separation of duties: "
        "arn:aws:iam::123456789012:user/ana both registered and approved this version",
        "quotes 'and' \"more\"\nnew line\ttab, #1 & [x] {y} <z> ~ * ? !",
        "",
        "  ;;  ",
        "é" * 400,
    ],
)
def test_any_text_becomes_a_value_sagemaker_accepts(text: str) -> None:
    # GIVEN free text, such as a gate refusal
    # WHEN it is made a metadata value
    value = metadata_value(text)

    # THEN SageMaker's value constraints accept it
    assert _accepted(value), value


def test_a_gate_refusal_keeps_its_words_and_its_separators() -> None:
    # GIVEN two problems joined by "; ", one listing reports with ", " and "(s)"
    text = (
        "required report(s) missing from ModelMetrics: ModelQuality, Bias; "
        "separation of duties: the approver is unknown (no LastModifiedBy)"
    )

    # WHEN it is made a metadata value
    value = metadata_value(text)

    # THEN it still reads as the refusal
    assert value == (
        "required reports missing from ModelMetrics: ModelQuality Bias / "
        "separation of duties: the approver is unknown no LastModifiedBy"
    )


def test_a_value_that_is_already_accepted_is_kept_as_it_is() -> None:
    # GIVEN what the recorder writes: an execution id and a timestamp
    for value in ("0f4b4e1c-7a8e-4c1e-9a53-5d4f1f1b2a10", "2026-01-05T09:15:00.000000Z"):
        # WHEN / THEN it is written unchanged
        assert metadata_value(value) == value


def test_a_long_text_is_cut_to_the_maximum() -> None:
    # GIVEN a text longer than SageMaker's maximum value length
    # WHEN it is made a metadata value
    # THEN it is cut to the maximum
    assert len(metadata_value("ab " * 200)) == METADATA_VALUE_MAX == 256
