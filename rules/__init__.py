"""Built-in assessment rules (TOML data), shipped inside the wheel as the package migrate._rules."""
