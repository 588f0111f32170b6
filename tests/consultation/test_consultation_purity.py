"""The consultation core imports no shell package and does no I/O at import."""

import ast
import pathlib

import consultation

FORBIDDEN = {"flask", "celery", "sqlalchemy", "fondo", "web", "requests", "smtplib",
             "logging", "os", "subprocess", "socket"}


def test_no_forbidden_imports():
    root = pathlib.Path(consultation.__file__).parent
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("print", "open"):
                raise AssertionError(f"{path.name} calls {node.func.id}()")


def test_protocol_is_package_data():
    from importlib import resources
    assert resources.files("consultation").joinpath("protocol.yaml").is_file()
