"""kerastools.layers."""
