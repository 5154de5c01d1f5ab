"""Serialization cases for kerastools.filters."""

from kerastools.filters import ARMAFilter

CASES = {
    ARMAFilter: lambda: ARMAFilter.butterworth(2, 0.1, transient_compensation=True),
}
