"""Every word a person reads is written in `warning/plan/` (DESIGN.md, the plan stage).

Texts of alerts, corrections, manual alerts, feed-health notices, siren reports
and test messages are composed there; the daemon, delivery, operations, store
and command line only pass them on.  The check looks for words of those texts
in the string literals (not docstrings) of the other stages.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support.paths import ROOT

PACKAGE = ROOT / "warning"
#: Stages that pass texts on and never write them.
PASSERS = ("daemon", "delivery", "operations", "store", "cli")
#: Words every text to people uses one of, and no log line, error or help text does.
PEOPLES_WORDS = re.compile(
    r"\b(tidak|sumber|[Ss]irene|[Pp]eringatan|KOREKSI|LATIHAN|SISTEM|perlu|dibatalkan|segera)\b"
)
#: CAP's own vocabulary of event names, which the CAP document format needs.
CAP_VOCABULARY = PACKAGE / "delivery" / "cap_document.py"


def _literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of the string literals of a module that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_stage_but_plan_writes_words_people_read() -> None:
    """No text for people in daemon/, delivery/, operations/, store/ or cli/."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text[:60]!r}"
        for stage in PASSERS
        for path in sorted((PACKAGE / stage).rglob("*.py"))
        if path != CAP_VOCABULARY
        for line, text in _literals(path)
        if PEOPLES_WORDS.search(text)
    ]
    assert found == []


def test_the_check_recognises_a_notice() -> None:
    """The words catch the texts plan/ writes (a feed-health notice, a silent siren)."""
    from warning.plan.notices import silent_siren_sms  # noqa: PLC0415 - the texts checked

    assert PEOPLES_WORDS.search(silent_siren_sms("sirene-manggar", drill=False))
    assert PEOPLES_WORDS.search("INFO SISTEM: sumber data usgs pulih 01/03 10.30 WITA.")
