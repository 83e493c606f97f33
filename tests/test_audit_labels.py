"""Every audit action the application writes has a label the audit log shows in Indonesian
(never only a raw code such as ``visit.confirmed``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from monev.audit import services as audit
from monev.audit.labels import ACTION_LABELS
from monev.core.database import write_intent
from monev.extensions import db
from tests.conftest import t

CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")
SOURCE = Path(__file__).resolve().parent.parent / "monev"


def _written_actions() -> dict[str, str]:
    """Each action code passed to ``record(...)`` (as the first argument or ``action=``)
    anywhere in monev/, including codes chosen by a condition, with one file that writes it."""
    found: dict[str, str] = {}
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            name = name or getattr(node.func, "id", "")
            if name != "record":
                continue
            args = node.args[:1] + [k.value for k in node.keywords if k.arg == "action"]
            if args and isinstance(args[0], ast.Name):
                # a variable: the codes assigned to it in the same function count
                args += [n.value for n in ast.walk(path_tree(path)) if _assigns(n, args[0].id)]
            for arg in args:
                for const in ast.walk(arg):
                    if isinstance(const, ast.Constant) and CODE.match(str(const.value)):
                        found.setdefault(const.value, str(path.relative_to(SOURCE.parent)))
    return found


_trees: dict[Path, ast.AST] = {}


def path_tree(path: Path) -> ast.AST:
    if path not in _trees:
        _trees[path] = ast.parse(path.read_text(encoding="utf-8"))
    return _trees[path]


def _assigns(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Assign) and any(
        isinstance(target, ast.Name) and target.id == name for target in node.targets
    )


def test_every_action_the_code_writes_has_a_label():
    written = _written_actions()
    # the scan sees what it must (it cannot pass by finding nothing)
    assert {
        "visit.confirmed",
        "visit.photo_added",
        "visit.photo_deleted",
        "visit.saved",
        "documents.sign",
        "signing.trust_root",
        "rubric.criterion_added",  # chosen by a condition, through a variable
        "rubric.criterion_updated",
    } <= set(written)
    assert len(written) > 60
    missing = {code: where for code, where in written.items() if code not in ACTION_LABELS}
    assert not missing, f"audit actions without a label in monev/audit/labels.py: {missing}"


def test_every_label_is_translated(app):
    for code, label in ACTION_LABELS.items():
        msgid = label._args[0]
        assert t(app, msgid) != msgid, code


def test_the_audit_log_shows_the_visit_actions_in_indonesian(app, client, login_as):
    login_as("admin")
    with app.app_context(), write_intent():
        for code in ("visit.saved", "visit.photo_added", "visit.confirmed", "documents.sign"):
            audit.record(code, "visit", 1)
        audit.record("old.gone", "thing", 2)  # a code no longer written: shown as it is
        db.session.commit()
    page = client.get("/admin/audit/").get_data(as_text=True)
    for msgid in (
        "Field visit scheduled or changed",
        "Visit photo added",
        "Field visit confirmed by the KIM",
        "Document signed electronically",
    ):
        assert t(app, msgid) in page
    assert "Kunjungan lapangan dikonfirmasi KIM" in page
    assert "<code>visit.confirmed</code>" in page  # the code stays, to filter by
    assert "old.gone" in page
    # the filter's choices read the same
    assert f'<option value="visit.confirmed" >{t(app, "Field visit confirmed by the KIM")}' in (
        page
    )
