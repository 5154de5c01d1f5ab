"""``kerastools.diagnostics``: the former name of ``kerastools.monitoring``, kept as an alias.

``from kerastools.diagnostics import babysit`` (and every other name of
``kerastools.monitoring.__all__``) keeps working; new code imports from
``kerastools.monitoring``. The submodules moved (``kerastools.diagnostics.weights``
is now ``kerastools.monitoring.weights``, and so on).
"""

from kerastools import monitoring as _monitoring
from kerastools.monitoring import *  # noqa: F401,F403

__all__ = list(_monitoring.__all__)
