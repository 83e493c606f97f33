"""The layering of ``monev`` (STYLE 17): the import-linter contracts in pyproject.toml.

grimp reads every import statement, including those inside functions, so an upward import
fails here however it is written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_imports_follow_the_layer_contracts():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603  (our own venv's tool, fixed arguments)
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_nothing_in_the_package_imports_the_app_package():
    """``monev/__init__.py`` (create_app) is the top of the stack: no module may import it,
    not even from inside a function (the old job worker built its own app that way)."""
    import grimp

    graph = grimp.build_graph("monev", cache_dir=None)
    assert graph.find_modules_that_directly_import("monev") == set()


def test_every_module_has_a_layer():
    """A new module of a domain split across layers (events, rubrics, regions, entries) must be
    given its layer, or the contract would silently not check it."""
    import tomllib

    import grimp

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contract = next(c for c in config["contracts"] if c["id"] == "layers")
    layers = {
        name.strip() for layer in contract["layers"] for name in layer.replace(":", "|").split("|")
    }
    graph = grimp.build_graph("monev", cache_dir=None)
    split = {layer.rsplit(".", 1)[0] for layer in layers} | {"monev"}
    unplaced = {
        module
        for module in graph.modules
        if module not in split
        and not any(module == layer or module.startswith(layer + ".") for layer in layers)
    }
    assert unplaced == set()
