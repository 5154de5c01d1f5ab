"""kerastools.tuning."""
