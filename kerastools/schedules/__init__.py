"""kerastools.schedules."""
