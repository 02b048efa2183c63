"""Fixtures the emulated CodePipeline's unit tests share; each module declares its own
``pipeline``."""

from __future__ import annotations

import pytest

from pipeline_scripts.emulation.clock import VirtualClock
from pipeline_scripts.emulation.codepipeline import EmulatedCodePipeline
from tests.stub_engine import StubEngine


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def engine(pipeline: EmulatedCodePipeline, clock: VirtualClock) -> StubEngine:
    """The sandbox's pipeline engine over ``pipeline``, its functions stubbed to succeed."""
    return StubEngine(pipeline, clock)
