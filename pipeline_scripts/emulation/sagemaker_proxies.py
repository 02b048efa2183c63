"""boto3-shaped clients over moto's, with the emulated SageMaker's operations in front:
every call lets the emulated endpoints progress first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline_scripts.emulation.sagemaker import EmulatedSageMaker


class SageMakerProxy:
    """moto's sagemaker client with the emulated operations put in front."""

    def __init__(self, emulator: EmulatedSageMaker, client: Any) -> None:
        self._emulator = emulator
        self._client = client

    def update_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        return self._emulator.update_endpoint(**kwargs)

    def create_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        return self._emulator.create_endpoint(**kwargs)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name in ("exceptions", "meta"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._emulator.tick()
            return attribute(*args, **kwargs)

        return call


class RuntimeProxy:
    def __init__(self, emulator: EmulatedSageMaker, client: Any) -> None:
        self._emulator = emulator
        self._client = client

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        return self._emulator.invoke_endpoint(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
