"""The one rule every path that deploys a version again follows (shared.rollback)."""

from __future__ import annotations

import pytest

from shared.rollback import refusal

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/prices/2"


def test_an_approved_version_may_be_deployed_again() -> None:
    # WHEN the registry says Approved
    # THEN nothing refuses it
    assert refusal(ARN, "Approved") is None


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("Rejected", "Rejected"),
        ("PendingManualApproval", "PendingManualApproval"),
        (None, "not in the registry"),
    ],
)
def test_any_other_status_is_refused_with_a_message_naming_the_version_and_status(
    status: str | None, said: str
) -> None:
    # WHEN the registry says anything but Approved (or nothing)
    # THEN the refusal names the version and what the registry says
    assert refusal(ARN, status) == f"{ARN} is {said}, not Approved"
