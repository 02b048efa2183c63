"""`make bench` runs ``python -m tests.bench``: its modules must keep importing what they
use from the product, which moves under refactors while the suite never runs the bench."""

from __future__ import annotations

import importlib
import pkgutil

import tests.bench


def test_every_bench_module_imports_and_has_a_main() -> None:
    # GIVEN every module of the bench package
    # (``__main__`` runs the bench on import, so it is not imported here)
    names = [
        info.name for info in pkgutil.iter_modules(tests.bench.__path__) if info.name != "__main__"
    ]
    assert "sandbox_bench" in names

    # WHEN each is imported
    modules = [importlib.import_module(f"tests.bench.{name}") for name in names]

    # THEN each imports cleanly and offers the entry point the bench's __main__ calls
    assert [m.__name__ for m in modules if not callable(getattr(m, "main", None))] == []
