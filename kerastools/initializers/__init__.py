"""kerastools.initializers."""
