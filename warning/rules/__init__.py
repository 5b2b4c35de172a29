"""The officials' rules: loading and validation, the alert engine, rule tests."""
