"""cfn-lint and cdk-nag over every synthesized template; no CodeBuild anywhere."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk.assertions import Annotations, Match

from tests.infrastructure.conftest import REPO, Synthesized

pytestmark = pytest.mark.infrastructure

FINDING_ID = re.compile(r"^AwsSolutions-[A-Z]+\d+(\[[^\]]+\])?$")
# One-size-fits-all reasons say nothing about the resource they excuse.
GENERIC_REASONS = re.compile(r"^(n/?a|todo|ok|fine|not needed|suppressed|acknowledged)\.?$", re.I)


@pytest.fixture(params=["example", "gated", "accounts"])
def every_app(request: pytest.FixtureRequest) -> Synthesized:
    """Each app configuration, the multi-account one (with its target stacks) too."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def _templates(outdir: Path) -> list[Path]:
    templates = sorted(outdir.glob("*.template.json"))
    assert templates, f"no templates in {outdir}"
    return templates


def test_cfn_lint_reports_no_errors_or_warnings_on_any_template(every_app: Synthesized) -> None:
    # GIVEN every template of the cloud assembly and the repository's .cfnlintrc
    templates = _templates(every_app.outdir)

    # WHEN cfn-lint checks them the way `make test` does
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", *map(str, templates)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )

    # THEN there is nothing to report
    findings = json.loads(result.stdout or "[]")
    assert findings == [], json.dumps(findings, indent=1)[:4000]
    assert result.returncode == 0, result.stderr


def test_cfnlintrc_ignores_only_commented_checks() -> None:
    lines = (REPO / ".cfnlintrc").read_text().splitlines()
    ignored = [i for i, line in enumerate(lines) if re.match(r"^\s*-\s*[EWI]\d{4}\s*$", line)]
    for index in ignored:
        assert lines[index - 1].strip().startswith("#"), lines[index]


def test_cdk_nag_validation_report_has_no_findings(every_app: Synthesized) -> None:
    report = json.loads((every_app.outdir / "validation-report.json").read_text())
    violations = [
        violation
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
    ]
    assert violations == [], json.dumps(violations, indent=1)[:4000]
    assert all(plugin.get("conclusion") != "failure" for plugin in report["pluginReports"])


def test_every_stack_of_the_app_is_a_template_in_the_assembly(synthesized: Synthesized) -> None:
    # The checks above run on every template: the shared stack and each group's.
    names = sorted(path.name for path in _templates(synthesized.outdir))
    assert names == sorted(f"{view.name}.template.json" for view in synthesized.every_stack())


def test_no_awssolutions_error_or_warning_annotations(synthesized: Synthesized) -> None:
    pattern = Match.string_like_regexp("AwsSolutions-")
    for stack in [synthesized.stacks.shared, *synthesized.stacks.groups.values()]:
        annotations = Annotations.from_stack(stack)
        assert annotations.find_error("*", pattern) == [], stack.stack_name
        assert annotations.find_warning("*", pattern) == [], stack.stack_name


def test_every_acknowledgment_names_its_finding_and_gives_a_specific_reason(
    synthesized: Synthesized,
) -> None:
    acknowledgments = [
        (logical_id, rule)
        for stack in synthesized.every_stack()
        for logical_id, resource in stack.template_json["Resources"].items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert acknowledgments, "the acknowledgments are written into the template metadata"
    for logical_id, rule in acknowledgments:
        assert FINDING_ID.match(rule["id"]), (logical_id, rule["id"])
        if rule["id"].startswith("AwsSolutions-IAM5"):
            assert "[" in rule["id"], f"{logical_id}: IAM5 must be acknowledged one by one"
        reason = rule["reason"]
        assert len(reason) >= 40, (logical_id, reason)
        assert not GENERIC_REASONS.match(reason), (logical_id, reason)
    # A reason is written for its finding: the same text never excuses two rules.
    reasons_by_rule: dict[str, set[str]] = {}
    for _, rule in acknowledgments:
        reasons_by_rule.setdefault(rule["reason"], set()).add(rule["id"].split("[")[0])
    assert all(len(rules) == 1 for rules in reasons_by_rule.values()), reasons_by_rule


def test_no_codebuild_anywhere(every_app: Synthesized) -> None:
    for template in _templates(every_app.outdir):
        text = template.read_text()
        resources = json.loads(text)["Resources"]
        assert not [r for r in resources.values() if r["Type"].startswith("AWS::CodeBuild::")]
        assert '"Provider": "CodeBuild"' not in text
        assert "codebuild:" not in text
