"""An import-linter contract type that import-linter lacks: an allow-list.

``forbidden`` contracts name what a layer must not import, so a package nobody thought of
slips through. An ``allowed`` contract names what a layer may import, and anything else
breaks it: the standard library always, the source package itself, and the packages
listed in ``allowed_modules`` (each with its subpackages). Imports under
``if TYPE_CHECKING:`` never run; the configuration leaves them out of the graph
(``exclude_type_checking_imports``).

Registered in pyproject.toml under ``[tool.importlinter] contract_types``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import grimp
from importlinter import Contract, ContractCheck, fields, output


@dataclass(frozen=True)
class _Violation:
    importer: str
    imported: str
    line_numbers: tuple[int, ...]


class AllowedImportsContract(Contract):
    """Each module in ``source_modules`` (and its descendants) imports only the standard
    library, its own top-level package and ``allowed_modules``."""

    type_name = "allowed"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_modules = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        allowed = {module.name for module in self.allowed_modules}  # type: ignore[attr-defined]
        violations: list[_Violation] = []
        for source in self.source_modules:  # type: ignore[attr-defined]
            own = source.name.split(".")[0]
            importers = {source.name} | graph.find_descendants(source.name)
            for importer in sorted(importers):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if _permitted(imported, own=own, allowed=allowed):
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    lines = tuple(detail["line_number"] for detail in details)
                    violations.append(_Violation(importer, imported, lines))
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            lines = ", ".join(f"l.{n}" for n in violation.line_numbers)
            output.print_error(
                f"{violation.importer} is not allowed to import {violation.imported} ({lines})",
                bold=False,
            )
            output.new_line()


def _permitted(imported: str, *, own: str, allowed: set[str]) -> bool:
    top = imported.split(".", maxsplit=1)[0]
    if top in sys.stdlib_module_names or top == own:
        return True
    return any(imported == name or imported.startswith(f"{name}.") for name in allowed)
