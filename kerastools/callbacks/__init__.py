"""kerastools.callbacks."""
