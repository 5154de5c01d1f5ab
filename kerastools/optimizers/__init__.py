"""kerastools.optimizers."""
