"""Ids of the ``Greenlight`` stack's outputs, as the ``greenlight`` CLI reads them.

The ledger and topic output ids are ``contract.OUTPUT_LEDGER_TABLE`` and
``contract.OUTPUT_TOPIC_ARN``. Each group adds one output holding its pipeline name.
This module must not import ``aws_cdk``: the CLI imports it.
"""

from __future__ import annotations

from typing import Final

PIPELINE_OUTPUT_PREFIX: Final = "PipelineName"


def pipeline_output_id(group: str) -> str:
    """``PipelineName`` + the group name in CamelCase: ``house-price`` → ``PipelineNameHousePrice``.

    Output ids may hold letters and digits only; group names add hyphens.
    """
    return PIPELINE_OUTPUT_PREFIX + "".join(
        part[:1].upper() + part[1:] for part in group.split("-") if part
    )
