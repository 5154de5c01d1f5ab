"""kerastools.filters: ARMA filters with transient compensation.

The one filter core shared by the optimizers (gradient filters), debiased
batch normalisation and curve smoothing. See ``ARMAFilter``.
"""

from kerastools.filters.arma import ARMAFilter
from kerastools.filters.arma import butterworth_coefficients

__all__ = ["ARMAFilter", "butterworth_coefficients"]
