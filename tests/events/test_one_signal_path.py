"""Every approval (card) is created by the signal use case: no other code calls ``add_approval``."""

from __future__ import annotations

import ast

from tests.paths import REPO

APP_PACKAGES = ("core", "bot", "handlers", "jobs", "db", "charts")


def _calls(attribute: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for package in APP_PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            count = sum(1 for node in ast.walk(tree) if isinstance(node, ast.Call)
                        and isinstance(node.func, ast.Attribute) and node.func.attr == attribute)
            if count:
                found[str(path.relative_to(REPO))] = count
    return found


def test_only_the_signal_use_case_creates_approvals():
    assert _calls("add_approval") == {"core/signals.py": 1}
