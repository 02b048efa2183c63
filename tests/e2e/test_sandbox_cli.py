"""``greenlight sandbox`` as a person runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_scripts.cli import build_parser, main
from pipeline_scripts.sandbox import cli as sandbox_cli
from pipeline_scripts.sandbox.scenarios import SCENARIOS, Scenario
from pipeline_scripts.sandbox.story import Story

pytestmark = pytest.mark.e2e


def test_list_names_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN the scenarios are listed
    code = main(["sandbox", "--list"])

    # THEN each one appears with its summary
    out = capsys.readouterr().out
    assert code == 0
    for known in SCENARIOS:
        assert known.name in out
        assert known.summary in out


def test_list_with_json_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN the scenarios are listed as JSON
    code = main(["sandbox", "--list", "--json"])

    # THEN stdout is one JSON document naming each scenario with its summary
    listed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(s["name"], s["summary"], s["needsGates"]) for s in listed] == [
        (s.name, s.summary, s.needs_gates) for s in SCENARIOS
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["sandbox", "--cdk-out", "elsewhere", "serve", "--port", "4567"],
        ["sandbox", "serve", "--cdk-out", "elsewhere", "--port", "4567"],
    ],
    ids=["before serve", "after serve"],
)
def test_cdk_out_is_taken_before_or_after_serve(argv: list[str]) -> None:
    # WHEN --cdk-out is given on either side of `serve`
    args = build_parser().parse_args(argv)

    # THEN serve gets it
    assert args.cdk_out == Path("elsewhere")
    assert args.port == 4567


def test_serve_help_lists_cdk_out(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sandbox", "serve", "--help"])
    assert "--cdk-out DIR" in capsys.readouterr().out


def test_an_unknown_scenario_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # WHEN a scenario that does not exist is asked for
    code = main(["sandbox", "--scenario", "no-such-thing"])

    # THEN the error names it and the known ones, without a traceback
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown scenario 'no-such-thing'" in err
    assert "happy-path" in err
    assert "Traceback" not in err


def test_a_missing_cloud_assembly_says_to_synthesize(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the sandbox is pointed at a folder with no synthesized app
    code = main(["sandbox", "--cdk-out", str(tmp_path)])

    # THEN it says what to do
    err = capsys.readouterr().err
    assert code == 3
    assert "make synth" in err


def test_json_results_of_one_scenario(
    example_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN one scenario runs with --json
    code = main(["sandbox", "--cdk-out", str(example_out), "--scenario", "happy-path", "--json"])

    # THEN stdout is one JSON document saying it passed, with its expectations
    (result,) = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["scenario"] == "happy-path"
    assert result["passed"] is True
    assert all(e["passed"] for e in result["expectations"])
    assert result["virtualSeconds"] > 0


def test_the_story_prints_each_step_and_the_audit_history(
    example_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the whole story runs as `make sandbox` runs it
    code = main(["sandbox", "--cdk-out", str(example_out)])

    # THEN it narrates the approval, the guardrail rollback and the rejection, then the
    # history, and exits 0
    out = capsys.readouterr().out
    assert code == 0
    assert "reviewer sets v1 to Approved" in out
    assert "production.Deploy failed" in out
    assert "reviewer sets v2 to Rejected" in out
    assert "audit history" in out
    assert "story: passed" in out


def test_a_failed_expectation_makes_the_run_exit_1(
    example_out: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a scenario whose expectation cannot hold
    def impossible(story: Story) -> None:
        story.expect("a version that was never registered is live", story.live("staging") == 9)

    monkeypatch.setattr(
        sandbox_cli, "scenario", lambda name: Scenario(name, "an impossible story", impossible)
    )

    # WHEN it runs
    code = main(["sandbox", "--cdk-out", str(example_out), "--scenario", "impossible"])

    # THEN the run fails and says which expectation failed
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL a version that was never registered is live" in out
    assert "impossible: FAILED" in out
