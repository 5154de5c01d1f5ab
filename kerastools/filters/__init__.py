"""kerastools.filters."""
