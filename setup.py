"""Build step of the package (the metadata is in pyproject.toml).

The app's templates, static files, migrations and translations stay in the repository's
top-level folders. A wheel (``pip install .``) carries copies of them inside the package, in
``monev/bundled/``, with the translations compiled (``.mo``), so an installed Monev runs from
any folder; ``config.APP_FILES`` finds them there, or beside ``config.py`` in a checkout
(and in an editable install, which reads the repository itself).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
APP_FOLDERS = ("templates", "static", "migrations", "translations")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")


def compile_catalogs(folder: Path) -> None:
    """``messages.po`` → ``messages.mo`` for every language under ``folder`` (Babel)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in folder.glob("*/LC_MESSAGES/*.po"):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        with po.with_suffix(".mo").open("wb") as out:
            write_mo(out, catalog)


class BuildWithAppFiles(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the repository's folders
        target = Path(self.build_lib) / "monev" / "bundled"
        for name in APP_FOLDERS:
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(ROOT / name, target / name, ignore=SKIP)
        compile_catalogs(target / "translations")


setup(cmdclass={"build_py": BuildWithAppFiles})
