"""The API is an interface beside the portal, not on top of it: nothing in ``api`` imports
``portal`` (the portal's key pages import the API's services, one way). Tests and migrations
are exempt."""

import ast
from pathlib import Path

import api

ROOT = Path(api.__file__).resolve().parent
EXEMPT = {"tests", "migrations"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_api_never_imports_portal():
    modules = [p for p in ROOT.rglob("*.py") if not EXEMPT & set(p.relative_to(ROOT).parts)]
    assert len(modules) > 5  # the scan sees the package
    upward = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules
        for name in _imported_modules(path)
        if name == "portal" or name.startswith("portal.")
    }
    assert upward == set()
