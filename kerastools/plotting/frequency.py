"""Frequency and step responses of gradient filters (optimizers as ARMA filters).

Reproduces the course's figures: standard momentum against Bengio-Nesterov
momentum (Nesterov attenuates high frequencies less), and Adam's unit DC gain
filter (its gain is not coupled to the learning rate).
"""

import numpy as np
from matplotlib.figure import Figure

from kerastools._checks import check_positive_int
from kerastools.filters import ARMAFilter


def gradient_filter_of(obj):
    """The gradient filter (an ``ARMAFilter``) of a filter, a kerastools or a Keras optimizer.

    A ``ChainOptimizer`` maps to the last stage whose ``as_filter()`` is an
    ``ARMAFilter`` (a ``Filter`` at its pole, Lion's ARMA(1, 1), ...; a later
    stage may complete an earlier one: AdaBelief's ``BeliefNormalize``
    compensates its ``MovingAverage``), with Nadam's look-ahead folded in; no
    such stage: the identity.

    Keras' ``SGD`` maps to its momentum / Nesterov filter, ``Adam`` and
    ``AdamW`` to a compensated EMA, ``Nadam`` to the ARMA1 of its look-ahead
    with constant momentum ``beta_1``, ``RMSprop`` to its momentum filter;
    optimizers without gradient filtering (Adagrad, Adadelta, plain SGD) map to
    the identity ``ARMAFilter([1.0])``.
    """
    import keras

    from kerastools.optimizers import ChainOptimizer
    from kerastools.optimizers import FilterOptimizer
    from kerastools.optimizers import stages as st

    if isinstance(obj, ARMAFilter):
        return obj
    if isinstance(obj, ChainOptimizer) and not isinstance(obj, FilterOptimizer):
        chain = obj.stages
        found = None  # the last stage that is (or completes) the gradient filter
        for i, stage in enumerate(chain):
            if isinstance(stage, st.Filter):
                f = stage.current_filter()
                if i + 1 < len(chain) and isinstance(chain[i + 1], st.NesterovLookahead):
                    return _nadam_filter(-f.a[0])
                found = f
            elif stage.as_filter() is not None:  # LionFilter, the paper_stages filters
                found = stage.as_filter()
        return ARMAFilter([1.0], name="none") if found is None else found
    if isinstance(obj, FilterOptimizer):
        f = obj.gradient_filter
        if f is None:
            return ARMAFilter([1.0], name="none")
        if obj.lookahead is not None:
            beta = -f.a[0]
            return _nadam_filter(beta)
        if obj.gradient_pole is not None and not callable(obj.gradient_pole):
            b, a = f.with_pole(float(obj.gradient_pole))
            return ARMAFilter(b, a, f.transient_compensation, name=f.name)
        return f
    opts = keras.optimizers
    if isinstance(obj, opts.SGD):
        if obj.momentum == 0:
            return ARMAFilter([1.0], name="none")
        if obj.nesterov:
            return ARMAFilter.nesterov(obj.momentum)
        return ARMAFilter.ar1(obj.momentum, gain="input")
    if isinstance(obj, opts.Nadam):
        return _nadam_filter(obj.beta_1)
    if isinstance(obj, (opts.Adam, opts.AdamW)):
        return ARMAFilter.ema(obj.beta_1)
    if isinstance(obj, opts.RMSprop) and obj.momentum > 0:
        return ARMAFilter.ar1(obj.momentum, gain="input")
    if isinstance(obj, opts.Optimizer):
        return ARMAFilter([1.0], name="none")
    raise ValueError(
        "Argument `filters` must hold ARMAFilter, FilterOptimizer or Keras optimizer "
        f"objects. Received: {obj!r}"
    )


def _nadam_filter(beta):
    # beta m + (1 - beta) g with m the unit DC gain EMA: one pole, one zero.
    return ARMAFilter([(1 - beta) * (1 + beta), -(1 - beta) * beta], [-beta],
                      transient_compensation=True, name=f"Nadam ARMA1({beta:g})")


def plot_frequency_response(filters, labels=None, n_freq=512, step_length=60,
                            normalize_dc=False, min_db=-40.0, title=None):
    """Magnitude response (dB against normalised frequency) and step response.

    Args:
        filters: one or a list of ``ARMAFilter``, ``FilterOptimizer`` or Keras
            optimizer objects, or a dict ``{label: object}``.
        labels: curve labels. Defaults to `None` (the filters' names).
        n_freq: frequencies between 0 and 0.5 cycles per step.
            Defaults to `512`.
        step_length: samples of the step response. Defaults to `60`.
        normalize_dc: divide every magnitude by its DC gain (0 dB at DC).
            Defaults to `False`.
        min_db: lower limit of the magnitude axis. Defaults to `-40.0`.
        title: figure title. Defaults to `None`.

    Returns:
        A ``matplotlib.figure.Figure`` with two panels.

    Example:

    >>> from kerastools import optimizers as kto
    >>> fig = plot_frequency_response(
    ...     {"momentum": kto.momentum(momentum=0.9),
    ...      "Nesterov": kto.nesterov(momentum=0.9), "Adam": kto.adam()})
    >>> save_figure(fig, "responses.png")
    """
    if isinstance(filters, dict):
        labels = list(filters) if labels is None else labels
        filters = list(filters.values())
    elif not isinstance(filters, (list, tuple)):
        filters = [filters]
    n_freq = check_positive_int("n_freq", n_freq)
    step_length = check_positive_int("step_length", step_length)
    arma = [gradient_filter_of(f) for f in filters]
    if labels is None:
        labels = [f.name or repr(f) for f in arma]
    if len(labels) != len(arma):
        raise ValueError(
            f"Argument `labels` must have one label per filter ({len(arma)}). "
            f"Received: labels={labels!r}"
        )
    nu = np.linspace(0.0, 0.5, n_freq)
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax_mag, ax_step = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    top = -np.inf
    for f, label in zip(arma, labels):
        h = np.abs(f.frequency_response(nu))
        if normalize_dc:
            h = h / abs(f.dc_gain())
        db = 20 * np.log10(np.maximum(h, 1e-300))
        top = max(top, float(np.max(db)))
        ax_mag.plot(nu, db, label=label)
        ax_step.plot(np.arange(step_length), f.step_response(step_length), label=label)
    ax_mag.set_ylim(max(min_db, ax_mag.get_ylim()[0]), top + 3.0)
    ax_mag.set_xlabel("normalised frequency (cycles per step)")
    ax_mag.set_ylabel("magnitude (dB)" + (", DC-normalised" if normalize_dc else ""))
    ax_mag.set_title("gradient filter frequency response")
    ax_step.set_xlabel("step")
    ax_step.set_ylabel("output")
    ax_step.set_title("step response (compensated where the filter is)")
    for ax in (ax_mag, ax_step):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig
