"""Governance gates checked before an approval starts a deployment: the one model that
the configuration parser (``shared.config``) builds from ``cdk.json`` and the approval
trigger reads back from its environment, so the two cannot disagree on what a gate is.

- Required reports: each named report is present in the package's ``ModelMetrics``
  (at least one of its metrics sources carries an ``S3Uri``). :data:`REPORT_SOURCES` is
  the one list of reports a gate may require.
- Separation of duties: the approver (``LastModifiedBy``) is not the registrant
  (``CreatedBy``). SageMaker fills these ``UserContext`` values with the IAM identity
  (``IamIdentity.Arn``) and, from Studio, the user profile (``DomainId`` and
  ``UserProfileName``). Two contexts are the same person when either the IAM ARN or the
  Studio profile matches; an approver or registrant that cannot be identified, or two
  contexts with nothing in common to compare, is refused: the gate cannot show the
  duties were separated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

#: Report name (as configured) -> the ModelMetrics section and its metrics sources.
REPORT_SOURCES: Final[Mapping[str, tuple[str, ...]]] = {
    "ModelQuality": ("Statistics", "Constraints"),
    "ModelDataQuality": ("Statistics", "Constraints"),
    "Bias": ("Report", "PreTrainingReport", "PostTrainingReport"),
    "Explainability": ("Report",),
}
#: The keys of a group's ``gates`` object (in ``cdk.json`` and in the trigger's environment).
REQUIRED_REPORTS_KEY: Final = "requiredReports"
SEPARATION_OF_DUTIES_KEY: Final = "separationOfDuties"
GATES_KEYS: Final = (REQUIRED_REPORTS_KEY, SEPARATION_OF_DUTIES_KEY)


@dataclass(frozen=True, kw_only=True)
class Gates:
    required_reports: tuple[str, ...] = ()
    separation_of_duties: bool = False

    def __post_init__(self) -> None:
        unknown = [name for name in self.required_reports if name not in REPORT_SOURCES]
        if unknown:
            raise ValueError(
                f"gates.requiredReports: unknown report(s) {', '.join(unknown)}; "
                f"expected some of {', '.join(REPORT_SOURCES)}"
            )

    def to_mapping(self) -> dict[str, Any]:
        """The gates as the group registry's entry holds them (:meth:`from_mapping` reads it)."""
        return {
            REQUIRED_REPORTS_KEY: list(self.required_reports),
            SEPARATION_OF_DUTIES_KEY: self.separation_of_duties,
        }

    def to_json(self) -> str:
        """:meth:`to_mapping` as JSON text (:meth:`from_json` reads it)."""
        return json.dumps(self.to_mapping(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Gates:
        """The gates :meth:`to_json` wrote; ValueError naming the bad key otherwise."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not valid JSON ({error.msg})") from None
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: Any) -> Gates:
        """The gates :meth:`to_mapping` wrote; ValueError naming the bad key otherwise."""
        if not isinstance(raw, dict):
            raise ValueError(f"expected a JSON object, got {raw!r}")
        unknown = set(raw) - set(GATES_KEYS)
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}")
        required = raw.get(REQUIRED_REPORTS_KEY, [])
        separation = raw.get(SEPARATION_OF_DUTIES_KEY, False)
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise ValueError(f"{REQUIRED_REPORTS_KEY}: expected a list of names")
        if not isinstance(separation, bool):
            raise ValueError(f"{SEPARATION_OF_DUTIES_KEY}: expected true or false")
        return cls(required_reports=tuple(required), separation_of_duties=separation)


@dataclass(frozen=True)
class Identity:
    iam_arn: str | None
    profile: str | None

    @property
    def known(self) -> bool:
        return bool(self.iam_arn or self.profile)

    def describe(self) -> str:
        return self.iam_arn or self.profile or "unknown"


def identity(context: object) -> Identity:
    """The comparable parts of a SageMaker ``UserContext``."""
    if not isinstance(context, Mapping):
        return Identity(None, None)
    iam = context.get("IamIdentity")
    iam_arn = iam.get("Arn") if isinstance(iam, Mapping) else None
    name, domain = context.get("UserProfileName"), context.get("DomainId")
    profile = f"{domain or '-'}/{name}" if name else None
    return Identity(str(iam_arn) if iam_arn else None, profile)


def missing_reports(package: Mapping[str, Any], required: tuple[str, ...]) -> list[str]:
    metrics = package.get("ModelMetrics") or {}
    missing = []
    for name in required:
        section = metrics.get(name) or {}
        if not any(
            isinstance(section.get(source), Mapping) and section[source].get("S3Uri")
            for source in REPORT_SOURCES[name]
        ):
            missing.append(name)
    return missing


def separation_problem(package: Mapping[str, Any]) -> str | None:
    approver = identity(package.get("LastModifiedBy"))
    registrant = identity(package.get("CreatedBy"))
    if not approver.known:
        return "separation of duties: the approver is unknown (no LastModifiedBy)"
    if not registrant.known:
        return "separation of duties: the registrant is unknown (no CreatedBy)"
    same_iam = approver.iam_arn is not None and approver.iam_arn == registrant.iam_arn
    same_profile = approver.profile is not None and approver.profile == registrant.profile
    if same_iam or same_profile:
        return (
            f"separation of duties: {approver.describe()} both registered and approved this version"
        )
    comparable = (approver.iam_arn and registrant.iam_arn) or (
        approver.profile and registrant.profile
    )
    if not comparable:
        return (
            f"separation of duties: cannot compare approver {approver.describe()} "
            f"with registrant {registrant.describe()}"
        )
    return None


def check_gates(package: Mapping[str, Any], gates: Gates) -> str | None:
    """The reason the gates refuse ``package`` (a DescribeModelPackage response), or None."""
    problems = []
    missing = missing_reports(package, gates.required_reports)
    if missing:
        problems.append(f"required report(s) missing from ModelMetrics: {', '.join(missing)}")
    if gates.separation_of_duties:
        problem = separation_problem(package)
        if problem:
            problems.append(problem)
    return "; ".join(problems) or None
