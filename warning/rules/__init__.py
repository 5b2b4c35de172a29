"""Officials' threshold rules: the file format, its validation and their evaluation (`engine`).

`rules/` at the top of the checkout holds the rule files (data); this package
holds the code that reads them.
"""

from warning.rules.fields import parse_duration
from warning.rules.loader import check_rules, load_rules, read_rules, rule_files

__all__ = ["check_rules", "load_rules", "parse_duration", "read_rules", "rule_files"]
