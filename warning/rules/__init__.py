"""Officials' threshold rules: the file format, its validation and their evaluation.

`engine.evaluate` is the pure reference (drills, scenario tests); the daemon's
`incremental.Evaluator` keeps what polls do not change and judges only what a
poll can change, with the same functions.

`rules/` at the top of the checkout holds the rule files (data); this package
holds the code that reads them.
"""

from warning.rules.fields import parse_duration
from warning.rules.loader import check_rules, load_rules, read_rules, rule_files

__all__ = ["check_rules", "load_rules", "parse_duration", "read_rules", "rule_files"]
