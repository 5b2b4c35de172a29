"""Imports flow one way through the stages (DESIGN.md, "Stages and packages").

A package uses only those to its left; `plan/` and `store/` stand side by side
and use neither each other nor anything to their right.  The data that crosses
them (alert changes, planned deliveries, outbox rows) lives in `model.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

PACKAGE = ROOT / "warning"

#: Each top-level module or package of warning/ and its place in the flow, left to right.
#: `operations/` runs drills through the daemon's pipeline, so it stands right of `daemon/`;
#: `warning console` starts the web console, so `cli/` stands right of `console/`;
#: `reports/` takes residents' reports in (plan and store behind it) beside `delivery/`.
RANK = {
    "__init__": 0,
    "model": 0,
    "log": 1,
    "settings": 1,
    "http": 2,
    "http_cutoff": 1,
    "turns": 1,
    "areas": 2,
    "feeds": 3,
    "rules": 4,
    "plan": 5,
    "store": 5,
    "delivery": 6,
    "reports": 6,
    "daemon": 7,
    "operations": 8,
    "console": 9,
    "cli": 10,
    "__main__": 11,
}


#: The one import that runs back, and why: loading settings reads the defaults each feed
#: module declares (a function-level import, since feed modules use settings' types).
#: Moving the loader into daemon/configuration.py would end it.
AGAINST_THE_FLOW = {("settings", "warning.feeds")}


def _part(module: str) -> str:
    """The top-level part of warning/ a dotted module name belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> set[str]:
    """The warning modules `path` imports, as names (`from warning import log` gives log)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "warning":
            found |= {f"warning.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("warning."):
            found.add(str(node.module))
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("warning.")}
    return found


def _own_part(path: Path) -> str:
    relative = path.relative_to(PACKAGE).with_suffix("")
    return relative.parts[0]


def test_every_part_of_the_package_has_a_place_in_the_flow() -> None:
    """A new module or package is placed in RANK before it can import anything."""
    parts = {_own_part(p) for p in PACKAGE.rglob("*.py")}
    assert parts - set(RANK) == set()


def _against_the_flow(part: str, modules: set[str]) -> list[str]:
    """The modules of `modules` that `part` may not import."""
    wrong = (m for m in modules if _part(m) != part and RANK.get(_part(m), 0) >= RANK[part])
    return sorted(m for m in wrong if (part, m) not in AGAINST_THE_FLOW)


def test_imports_only_flow_from_left_to_right() -> None:
    """No module imports a stage to its right or a stage beside it (plan <-/-> store)."""
    wrong = {
        str(path.relative_to(ROOT)): found
        for path in sorted(PACKAGE.rglob("*.py"))
        if (found := _against_the_flow(_own_part(path), _imports(path)))
    }
    assert wrong == {}


def test_the_check_sees_an_import_against_the_flow() -> None:
    """The outbox reading the planner's types (as on main before the move) is caught."""
    assert _against_the_flow("store", {"warning.plan.planner", "warning.model"}) == [
        "warning.plan.planner"
    ]
    assert _against_the_flow("plan", {"warning.delivery.channel"}) == ["warning.delivery.channel"]
