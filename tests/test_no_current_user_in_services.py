"""Services and queries never read the signed-in user: the actor is passed in by the view
(or by the CLI, a job or a test), so every rule can be run and tested without a request."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "monev"

#: Modules of the request layer that may read ``current_user``, and why.
ALLOWED = {
    # The app factory: the locale and time-zone selectors and the after-request hook
    # (Cache-Control for signed-in answers) run per request, before or after any service.
    "__init__.py": "app factory: request hooks and locale selection",
    # ``enforce`` is the before_request access check; ``signed_in_user`` is how the request
    # layer names the acting user (create_app hands it to the audit log as default actor).
    "core/access.py": "the before_request access check and the request's actor",
    # Jinja context processor: the navigation menu of the signed-in user's role.
    "core/templating.py": "template context processor (navigation by role)",
}


def _is_view(relative: str) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return name == "views.py" or name.endswith("_views.py") or "/views/" in f"/{relative}"


def _names(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    if isinstance(node, ast.ImportFrom):
        return {alias.name for alias in node.names}
    return set()


def _reads_current_user(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [node.lineno for node in ast.walk(tree) if "current_user" in _names(node)]


def test_no_service_or_query_reads_current_user():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if _is_view(relative) or relative in ALLOWED:
            continue
        for line in _reads_current_user(path):
            offenders.append(f"monev/{relative}:{line}")
    assert offenders == []


def test_the_scan_finds_services_and_queries_and_the_allowances_exist():
    """The scan above covers every services/queries module (a rename cannot hide one), and
    each allowance still names a file that exists and reads current_user."""
    scanned = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}
    assert {"results/services.py", "judging/sheets.py", "audit/services.py"} <= scanned
    assert any(p.startswith("judging/queries/") for p in scanned)
    for relative in ALLOWED:
        assert _reads_current_user(PACKAGE / relative), relative
