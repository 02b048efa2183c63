#!/usr/bin/env python3
"""Wiring only: the ``greenlight`` context → the stacks → cdk-nag → synth."""

from __future__ import annotations

import sys

from aws_cdk import App

from shared.config import ConfigError, config_from_context
from stacks.app import add_greenlight


def main() -> None:
    app = App()
    try:
        config = config_from_context(app.node.get_all_context())
    except ConfigError as error:
        print(f"cdk.json: {error}", file=sys.stderr)
        sys.exit(1)
    add_greenlight(app, config)
    app.synth()


if __name__ == "__main__":
    main()
