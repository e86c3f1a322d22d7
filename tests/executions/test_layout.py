"""The shape ARCHITECTURE.md promises of the executions app, held so it stays true."""

import ast
from pathlib import Path

import apps.executions

APP = Path(apps.executions.__file__).parent
LONGEST_FUNCTION = 50


def _sources() -> list[Path]:
    return [path for path in APP.rglob("*.py") if "migrations" not in path.parts]


def test_no_function_of_the_executions_app_is_over_50_lines() -> None:
    too_long = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > LONGEST_FUNCTION:
                    too_long.append(f"{path.relative_to(APP)}:{node.name} ({lines} lines)")
    assert len(_sources()) > 20  # the walk did find the app, the engine and the worker
    assert too_long == []


def test_services_keep_only_the_web_side() -> None:
    assert len((APP / "services.py").read_text().splitlines()) < 300
