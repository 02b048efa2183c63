"""Progress of long commands: which step of how many, and the time since the start,
on stderr, so that what the command prints on stdout stays the same."""

from __future__ import annotations

import io

import pytest

from pipeline_scripts.progress import Progress


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_step_is_announced_with_its_place_and_the_elapsed_time() -> None:
    # GIVEN progress over two scenarios, on its own stream and clock
    stream, clock = io.StringIO(), _Clock()
    progress = Progress(["story", "happy-path"], what="scenario", stream=stream, clock=clock)

    # WHEN the two run, 7.5 and then 2 seconds long
    for name, seconds, passed in (("story", 7.5, True), ("happy-path", 2.0, False)):
        progress.begin(name)
        clock.now += seconds
        progress.end(name, "passed" if passed else "FAILED")

    # THEN each start and end says which of how many, and how long since the start
    assert stream.getvalue().splitlines() == [
        "[1/2] scenario story ...",
        "[1/2] scenario story passed in 7.5 s (elapsed 7.5 s)",
        "[2/2] scenario happy-path ...",
        "[2/2] scenario happy-path FAILED in 2.0 s (elapsed 9.5 s)",
    ]


def test_a_step_out_of_the_plan_is_refused_by_name() -> None:
    progress = Progress(["story"], what="scenario", stream=io.StringIO())
    with pytest.raises(ValueError, match=r"scenario 'nope' is not the next one planned \(story\)"):
        progress.begin("nope")
