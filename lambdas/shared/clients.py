"""boto3 clients a function makes once and reuses on every warm invocation.

Lambda keeps a function's process between invocations, and AWS advises making SDK
clients once and reusing them ("Take advantage of execution environment reuse", Best
practices for working with AWS Lambda functions): a client costs milliseconds to make
and holds nothing of one invocation. A client here belongs to the boto3 default session
it was made from (its credentials and hooks), so a process whose default session is
replaced (a test, or each function of the sandbox with its own) gets clients of the new
one.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

import boto3

#: Each default session's clients, by service and region; gone with the session.
_MADE: WeakKeyDictionary[Any, dict[tuple[str, str | None], Any]] = WeakKeyDictionary()


def client(service: str, region: str | None = None) -> Any:
    """The default session's client of ``service`` in ``region`` (the session's own
    region when None), made on first use."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    made = _MADE.setdefault(session._session, {})  # type: ignore[union-attr]
    key = (service, region)
    if key not in made:
        made[key] = session.client(service, region_name=region)  # type: ignore[union-attr,call-overload]
    return made[key]
