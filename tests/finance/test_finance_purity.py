"""The finance core imports no shell (Flask, Celery, SQLAlchemy, fondo, web)."""

import ast
import pathlib

import finance

FORBIDDEN = ("flask", "celery", "sqlalchemy", "fondo", "web", "logging", "os", "requests")


def test_finance_imports_no_shell():
    root = pathlib.Path(finance.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
