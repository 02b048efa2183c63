"""Which AWS errors are transient: worth waiting out and trying again, not a failure.

Throttling, a server-side (5xx) error, and a connection lost on the way are transient;
the AWS SDKs retry them a few times by themselves, and what is left after that is still
transient: the call may have taken effect or not, and only what the service shows later
says which. Anything else (a denial, a validation error) is a real failure.
See https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
"""

from __future__ import annotations

from typing import Final

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

#: Error codes the AWS SDKs treat as throttling (and so retry).
THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
#: Error codes of a service-side failure, whatever the HTTP status says.
SERVER_ERROR_CODES: Final = frozenset(
    {"InternalFailure", "InternalServerError", "InternalError", "ServiceUnavailable"}
)


def is_transient(error: BaseException) -> bool:
    """True for throttling, a 5xx, or a connection that failed; False for the rest."""
    if isinstance(error, ConnectionError | HTTPClientError):
        return True
    if not isinstance(error, ClientError):
        return False
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return code in THROTTLING_CODES or code in SERVER_ERROR_CODES or int(status or 0) >= 500
