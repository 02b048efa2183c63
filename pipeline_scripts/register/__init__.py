"""``greenlight register`` and the importable :func:`register` (notebooks, CI).

- :mod:`.create` registers a version (and approves it, with ``approve=True``);
- :mod:`.checks` checks every argument before anything is created;
- :mod:`.command` is the subcommand.
"""

from pipeline_scripts.register.create import Registration, register

__all__ = ["Registration", "register"]
