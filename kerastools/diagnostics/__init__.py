"""kerastools.diagnostics."""
