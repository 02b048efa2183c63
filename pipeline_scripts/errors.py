"""Errors the CLI turns into one clear line on stderr and a documented exit code."""

from __future__ import annotations

#: Exit codes, documented in the README.
EXIT_OK = 0
EXIT_FAILURE = 1  # the command ran and what it checked failed (e.g. a sandbox expectation)
EXIT_USAGE = 2  # bad arguments: argparse's own code, kept for our validation errors too
EXIT_NOT_FOUND = 3  # unknown group, version or stage
EXIT_REFUSED = 4  # AWS (or a gate) refused the request, e.g. a transition SageMaker refuses
EXIT_NO_CREDENTIALS = 5  # no AWS credentials could be found


class GreenlightError(Exception):
    """An error with a message fit for a person and the exit code that goes with it."""

    exit_code = EXIT_FAILURE


class UsageError(GreenlightError):
    exit_code = EXIT_USAGE


class NotFound(GreenlightError):
    exit_code = EXIT_NOT_FOUND


class Refused(GreenlightError):
    exit_code = EXIT_REFUSED


class NoCredentials(GreenlightError):
    exit_code = EXIT_NO_CREDENTIALS
