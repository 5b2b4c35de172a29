"""Each component receives only its own sections: drills and operator actions never the whole
`Settings`, which only the command line, the console's start and the configuration loader hold.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

PACKAGE = ROOT / "warning"
#: Drills and operator actions (the console and command line build their sections).
COMPONENTS = (
    *(PACKAGE / "operations").glob("*.py"),
    PACKAGE / "daemon" / "drill.py",
    PACKAGE / "daemon" / "drillreport.py",
    PACKAGE / "cli" / "outbox.py",
)
#: The builders of the sections from the settings: where the whole object may arrive.
BUILDERS = frozenset({"of"})


def _takes_settings(path: Path) -> list[str]:
    """`file:line function` of every function in `path` with a parameter of type `Settings`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef) or node.name in BUILDERS:
            continue
        arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        if any(
            a.annotation is not None and ast.unparse(a.annotation) == "Settings" for a in arguments
        ):
            found.append(f"{path}:{node.lineno} {node.name}")
    return found


def test_drills_and_operator_actions_never_take_the_whole_settings() -> None:
    """They take `OperatorSettings` or a `DrillSetup`, built from `Settings` where they start."""
    assert [f for path in sorted(COMPONENTS) for f in _takes_settings(path)] == []


def test_the_check_finds_a_function_that_takes_the_settings(tmp_path: Path) -> None:
    """The check above does see a `settings: Settings` parameter (and passes a builder)."""
    module = tmp_path / "m.py"
    module.write_text(
        "def act(settings: Settings) -> None: ...\n"
        "class S:\n    @classmethod\n    def of(cls, settings: Settings) -> S: ...\n"
    )
    found = _takes_settings(module)
    assert [line.split(" ")[1] for line in found] == ["act"]
