"""The import-linter setup: the allow-list contract type, and the CLI core's module list."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import grimp

from tests.import_contracts import AllowedImportsContract

ROOT = Path(__file__).resolve().parents[2]


def _contracts() -> list[dict[str, Any]]:
    with (ROOT / "pyproject.toml").open("rb") as config:
        contracts: list[dict[str, Any]] = tomllib.load(config)["tool"]["importlinter"]["contracts"]
    return contracts


def _graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    graph.add_module("deploy")
    for importer, imported in imports:
        graph.add_module(importer)
        graph.add_module(imported)
        graph.add_import(importer=importer, imported=imported, line_number=3, line_contents="")
    return graph


def _allowed(*allowed: str) -> AllowedImportsContract:
    return AllowedImportsContract(
        name="functions",
        session_options={},
        contract_options={"source_modules": ["deploy"], "allowed_modules": list(allowed)},
    )


def test_the_allow_list_keeps_the_standard_library_the_own_package_and_what_it_names() -> None:
    # GIVEN a function importing json, its own logic, boto3 and a shared module
    graph = _graph(
        ("deploy.handler", "json"),
        ("deploy.handler", "deploy.logic"),
        ("deploy.logic", "boto3"),
        ("deploy.logic", "shared.contract"),
    )

    # WHEN the contract allowing boto3 and shared is checked
    check = _allowed("boto3", "shared").check(graph, verbose=False)

    # THEN it is kept
    assert check.kept


def test_the_allow_list_breaks_on_any_package_it_does_not_name() -> None:
    # GIVEN a function importing moto and another function's package
    graph = _graph(("deploy.logic", "moto"), ("deploy.logic", "bake.logic"))

    # WHEN the contract allowing only boto3 is checked
    check = _allowed("boto3").check(graph, verbose=False)

    # THEN it is broken, naming each import that is not allowed
    assert not check.kept
    broken = {(v.importer, v.imported) for v in check.metadata["violations"]}
    assert broken == {("deploy.logic", "moto"), ("deploy.logic", "bake.logic")}


def test_the_cli_core_contract_names_every_module_but_the_sandbox_and_the_emulation() -> None:
    # GIVEN the top-level modules and packages of pipeline_scripts
    package = ROOT / "pipeline_scripts"
    found = {
        f"pipeline_scripts.{path.stem}"
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }

    # WHEN the CLI core contract's source modules are read
    (core,) = [c for c in _contracts() if c["name"].startswith("The CLI core")]

    # THEN they are all of them but the two the sandbox command alone may import
    expected = found - {"pipeline_scripts.sandbox", "pipeline_scripts.emulation"}
    assert set(core["source_modules"]) == expected
