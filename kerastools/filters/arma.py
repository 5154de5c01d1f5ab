"""ARMA filters with transient compensation, on NumPy arrays and on tensors.

One object serves three users: the optimizers (gradient filters and the
filters of the squared gradient), debiased batch normalisation (running
statistics) and curve smoothing. The NumPy side analyses and applies the
filter; the tensor side is a pure ``initial_state`` / ``step`` pair written with
``keras.ops`` so that the state can live in Keras variables.
"""

import math
import numbers

import keras
import numpy as np

from kerastools import _native
from kerastools._checks import check_bool
from kerastools._checks import check_choice
from kerastools._checks import check_in_range
from kerastools._checks import check_positive_int


def _scipy_lfilter():
    """SciPy's ``lfilter`` where SciPy is installed (the ``tuner`` extra brings it), else None.

    Imported on first use: ``scipy.signal`` takes longer to import than all of kerastools.
    """
    try:
        from scipy.signal import lfilter
    except ImportError:  # pragma: no cover - the loop in ``apply`` is the fallback
        return None
    return lfilter


# A pole this close to the unit circle counts as on it.
_STABILITY_MARGIN = 1e-12


def _coefficients(name, values, allow_empty):
    if isinstance(values, numbers.Real) and not isinstance(values, bool):
        values = [values]
    if isinstance(values, np.ndarray):
        values = values.ravel().tolist()
    if not isinstance(values, (list, tuple)):
        raise ValueError(
            f"Argument `{name}` must be a sequence of finite real numbers. "
            f"Received: {name}={values!r}"
        )
    if not values and not allow_empty:
        raise ValueError(
            f"Argument `{name}` must hold at least one coefficient. "
            f"Received: {name}={list(values)!r}"
        )
    out = []
    for v in values:
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(
                f"Argument `{name}` must be a sequence of finite real numbers. "
                f"Received: {name}={list(values)!r}"
            )
        out.append(float(v))
    return tuple(out)


@keras.saving.register_keras_serializable(package="kerastools")
class ARMAFilter:
    """Linear time-invariant ARMA filter with optional transient compensation.

    Reference: the course's "Review of ARMA LTI filters" and its reading of
    optimizers as gradient filters; Kingma & Ba (2015), "Adam", section 3, for
    the bias correction that transient compensation generalises.

    Update rule (``a[0] = 1`` is implied and not passed):

    ```
    y[n] = sum_{i=0..M} b[i] * x[n-i] - sum_{i=1..L} a[i] * y[n-i]
    ```

    With ``transient_compensation=True`` the output is divided by the filter's
    step response normalised to its DC gain, ``s[n] / H(1)``. For the unit DC
    gain AR1 ``y[n] = p y[n-1] + (1-p) x[n]`` that is ``1 - p**(n+1)``: Adam's
    ``m / (1 - beta_1**t)``. A constant input then passes unchanged from the
    very first step.

    A pole on or outside the unit circle is an error, except for the
    accumulator (``a = [-1]``, one pole at ``z = 1``), which is allowed without
    transient compensation.

    The same object runs on NumPy (``apply``, ``step_response``,
    ``frequency_response``, ...) and on tensors (``initial_state`` and the pure
    ``step``, written with ``keras.ops``).

    Args:
        b: feed-forward coefficients ``b[0..M]`` (at least one).
        a: feedback coefficients ``a[1..L]`` (``a[0] = 1`` implied).
            Defaults to `()` (a FIR filter).
        transient_compensation: divide the output by the DC-normalised step
            response. Defaults to `False`.
        name: an optional label (used in plots). Defaults to `None`.

    Example:

    >>> f = ARMAFilter.ema(0.9)                     # Adam's first moment
    >>> y = f.apply(np.ones(5))                     # compensated: all ones
    >>> state = f.initial_state((3,), "float32")
    >>> y, state = f.step(keras.ops.ones((3,)), state)
    """

    def __init__(self, b, a=(), transient_compensation=False, name=None):
        self.b = _coefficients("b", b, allow_empty=False)
        self.a = _coefficients("a", a, allow_empty=True)
        self.transient_compensation = check_bool("transient_compensation",
                                                 transient_compensation)
        if name is not None and not isinstance(name, str):
            raise ValueError(f"Argument `name` must be a string. Received: name={name!r}")
        self.name = name
        if not self.is_stable() and not self.is_accumulator:
            mags = ", ".join(f"{abs(p):.6g}" for p in self.poles())
            raise ValueError(
                "Argument `a` must give a stable filter (every pole strictly "
                f"inside the unit circle; pole magnitudes {mags}). Received: a={list(self.a)!r}"
            )
        if self.transient_compensation:
            dc = self.dc_gain()
            if not math.isfinite(dc) or dc == 0.0:
                raise ValueError(
                    "Argument `transient_compensation` needs a finite, non-zero "
                    f"DC gain; this filter's is {dc}. Received: "
                    f"transient_compensation=True with b={list(self.b)!r}, a={list(self.a)!r}"
                )
            if self.b[0] == 0.0:
                # The step response starts at 0: the first output cannot be
                # divided by it (found by tests/test_fuzz.py).
                raise ValueError(
                    "Argument `b` must have b[0] != 0 for transient compensation (the "
                    f"step response starts at b[0]). Received: b={list(self.b)!r}"
                )

    # ------------------------------------------------------------------ design
    @classmethod
    def ar1(cls, pole, gain="dc", transient_compensation=False, name=None):
        """First-order low-pass ``y[n] = p y[n-1] + k x[n]``.

        ``gain="dc"``: ``k = 1 - p`` (unit DC gain: the exponential moving
        average of RMSprop and Adam). ``gain="input"``: ``k = 1`` (classic
        momentum ``v = p v + g``, DC gain ``1 / (1 - p)``).
        """
        p = check_in_range("pole", pole, 0.0, 1.0)
        check_choice("gain", gain, ("dc", "input"))
        k = 1.0 - p if gain == "dc" else 1.0
        return cls([k], [-p], transient_compensation=transient_compensation,
                   name=name or f"AR1({p:g}, {gain})")

    @classmethod
    def ema(cls, decay, transient_compensation=True, name=None):
        """Exponential moving average: ``ar1(decay, gain="dc")``, compensated by default."""
        return cls.ar1(decay, gain="dc", transient_compensation=transient_compensation,
                       name=name or f"EMA({float(decay):g})")

    @classmethod
    def nesterov(cls, momentum, transient_compensation=False, name=None):
        """Bengio-Nesterov momentum: ARMA1 with one pole and one zero.

        ``v[n] = p v[n-1] + g[n]``, output ``D[n] = (1+p) v[n] - p v[n-1]``:
        ``b = [1+p, -p]``, ``a = [-p]`` (Keras' ``SGD(nesterov=True)``).
        """
        p = check_in_range("momentum", momentum, 0.0, 1.0)
        return cls([1.0 + p, -p], [-p], transient_compensation=transient_compensation,
                   name=name or f"Nesterov({p:g})")

    @classmethod
    def accumulator(cls, name=None):
        """The running sum ``y[n] = y[n-1] + x[n]`` (Adagrad's normaliser)."""
        return cls([1.0], [-1.0], name=name or "accumulator")

    @classmethod
    def butterworth(cls, order, cutoff, transient_compensation=False, name=None):
        """Digital Butterworth low-pass (bilinear transform, pre-warped), unit DC gain.

        Args:
            order: 1 to 4.
            cutoff: -3 dB frequency in cycles per step, in ``(0, 0.5)``.
        """
        order = check_positive_int("order", order)
        if order > 4:
            raise ValueError(f"Argument `order` must be in [1, 4]. Received: order={order}")
        nu = check_in_range("cutoff", cutoff, 0.0, 0.5, low_closed=False)
        b, a = butterworth_coefficients(order, nu)
        if not np.all(np.abs(np.roots(a)) < 1.0 - 1e-9):
            # A tiny cutoff puts the poles on z = 1 in float64 (found by
            # tests/test_fuzz.py): the design would be an unstable integrator.
            raise ValueError(
                "Argument `cutoff` is too small for a stable float64 Butterworth design of "
                f"order {order}. Received: cutoff={cutoff!r}"
            )
        return cls(b, a[1:], transient_compensation=transient_compensation,
                   name=name or f"Butterworth({order}, {nu:g})")

    # -------------------------------------------------------------- properties
    @property
    def order(self):
        """Number of state values per element: ``max(M, L)``."""
        return max(len(self.b) - 1, len(self.a))

    @property
    def is_accumulator(self):
        return self.a == (-1.0,)

    @property
    def _ar1_form(self):
        # b = [k], a = [-p]: the state is simply the previous output.
        return len(self.b) == 1 and len(self.a) == 1

    def ar1_pole(self):
        """The pole ``p`` of a first-order filter (AR1 or Nesterov form), else None."""
        if len(self.a) == 1:
            return -self.a[0]
        return None

    def with_pole(self, pole):
        """Same family (AR1 unit DC / unit input gain, Nesterov), another pole.

        ``pole`` may be a float or a scalar tensor (for coefficient schedules).
        Returns ``(b, a)`` coefficient tuples.
        """
        family = self.family()
        if family == "ar1_dc":
            return (1.0 - pole,), (-pole,)
        if family == "ar1_input":
            return (1.0,), (-pole,)
        if family == "nesterov":
            return (1.0 + pole, -pole), (-pole,)
        raise ValueError(
            "Argument `pole` can only be scheduled for an AR1 or Nesterov filter; "
            f"this filter has b={list(self.b)!r}, a={list(self.a)!r}. Received: pole={pole!r}"
        )

    def family(self):
        """``"ar1_dc"``, ``"ar1_input"``, ``"nesterov"``, ``"accumulator"`` or ``None``."""
        if self.is_accumulator and self.b == (1.0,):
            return "accumulator"
        if len(self.a) != 1:
            return None
        p = -self.a[0]
        if len(self.b) == 1:
            if abs(self.b[0] - (1.0 - p)) < 1e-15:
                return "ar1_dc"
            if self.b[0] == 1.0:
                return "ar1_input"
        if len(self.b) == 2 and abs(self.b[0] - (1.0 + p)) < 1e-15 and self.b[1] == -p:
            return "nesterov"
        return None

    # ------------------------------------------------------------ NumPy side
    def poles(self):
        return np.roots(np.r_[1.0, self.a]) if self.a else np.zeros(0, complex)

    def zeros(self):
        b = np.trim_zeros(np.asarray(self.b), "f")
        return np.roots(b) if len(b) > 1 else np.zeros(0, complex)

    def is_stable(self):
        return bool(np.all(np.abs(self.poles()) < 1.0 - _STABILITY_MARGIN))

    def dc_gain(self):
        """``H(1) = sum(b) / (1 + sum(a))``; ``inf`` for the accumulator."""
        den = 1.0 + sum(self.a)
        num = sum(self.b)
        if den == 0.0:
            return math.inf if num != 0 else math.nan
        return num / den

    def frequency_response(self, nu):
        """Complex ``H(exp(j 2 pi nu))`` at frequencies ``nu`` in cycles per step."""
        nu = np.asarray(nu, dtype=np.float64)
        z1 = np.exp(-2j * np.pi * nu)
        num = sum(bk * z1**k for k, bk in enumerate(self.b))
        den = 1.0 + sum(ak * z1 ** (k + 1) for k, ak in enumerate(self.a))
        return num / den

    def apply(self, x, axis=0, compensate=None):
        """Filters the array ``x`` along ``axis`` (zero initial state), in float64.

        The output is transient-compensated when the filter is (or when
        ``compensate=True``).
        """
        x = np.asarray(x, dtype=np.float64)
        xm = np.moveaxis(x, axis, 0)
        n = xm.shape[0]
        lfilter = _scipy_lfilter() if n else None
        if lfilter is not None:
            y = lfilter(self.b, [1.0, *self.a], xm, axis=0)
        else:
            y = self._apply_loop(xm)
        comp = self.transient_compensation if compensate is None else compensate
        if comp:
            s = self._raw_step_response(n) / self.dc_gain()
            y = y / s.reshape((n,) + (1,) * (xm.ndim - 1))
        return np.moveaxis(y, 0, axis)

    def _apply_loop(self, xm):
        """The difference equation written out (used where SciPy is absent)."""
        n = xm.shape[0]
        y = np.empty_like(xm)
        L, M = len(self.a), len(self.b)
        for t in range(n):
            acc = np.zeros(xm.shape[1:])
            for i in range(min(M, t + 1)):
                acc = acc + self.b[i] * xm[t - i]
            for i in range(min(L, t)):
                acc = acc - self.a[i] * y[t - 1 - i]
            y[t] = acc
        return y

    def _raw_step_response(self, n):
        return ARMAFilter.__new_unchecked(self.b, self.a).apply(np.ones(n), compensate=False)

    @staticmethod
    def __new_unchecked(b, a):
        f = object.__new__(ARMAFilter)
        f.b, f.a, f.transient_compensation, f.name = tuple(b), tuple(a), False, None
        return f

    def impulse_response(self, n):
        """First ``n`` samples of the (uncompensated) impulse response."""
        check_positive_int("n", n)
        x = np.zeros(n)
        x[0] = 1.0
        return self.apply(x, compensate=False)

    def step_response(self, n, compensate=None):
        """First ``n`` samples of the step response (compensated when the filter is)."""
        check_positive_int("n", n)
        return self.apply(np.ones(n), compensate=compensate)

    # ----------------------------------------------------------- tensor side
    def initial_state(self, shape, dtype="float32", initial_output=0.0):
        """Zero state for inputs of ``shape``: a tuple of tensors.

        Layout: ``order`` tensors of ``shape`` (for an AR1 the previous output,
        otherwise the direct-form-II-transposed registers), then, with transient
        compensation, ``order`` scalars running the same recursion on a unit
        step. ``initial_output`` sets the AR1's previous output (Adagrad's
        initial accumulator value); other forms start at zero.
        """
        if initial_output != 0.0 and not self._ar1_form:
            raise ValueError(
                "Argument `initial_output` is only supported by first-order "
                f"AR filters. Received: initial_output={initial_output!r}"
            )
        state = [keras.ops.full(shape, initial_output, dtype=dtype)] if self._ar1_form else [
            keras.ops.zeros(shape, dtype=dtype) for _ in range(self.order)]
        if self.transient_compensation:
            state += [keras.ops.zeros((), dtype=dtype) for _ in range(self.order)]
        return tuple(state)

    def state_size(self):
        """Number of tensors in the state: (per-element, scalar)."""
        return self.order, (self.order if self.transient_compensation else 0)

    def step(self, x, state, b=None, a=None):
        """One step on tensors: returns ``(y, new_state)``; pure, no variables touched.

        ``b`` and ``a`` optionally replace the coefficients for this step
        (same lengths; floats or scalar tensors), for time-varying filters.
        The output is compensated when the filter is.
        """
        y, scale, new_state = self.step_parts(x, state, b=b, a=a)
        if scale is not None:
            y = y / scale
        return y, new_state

    def step_parts(self, x, state, b=None, a=None):
        """Like ``step`` but returns ``(y_raw, scale, new_state)``.

        ``y_raw`` is the uncompensated output and ``scale`` the DC-normalised
        step response (``None`` without compensation): ``y = y_raw / scale``.
        """
        b = self.b if b is None else tuple(b)
        a = self.a if a is None else tuple(a)
        k = self.order
        y, new = self.recursion(x, state[:k], b, a)
        if not self.transient_compensation:
            return y, None, new
        dtype = state[k].dtype if k else keras.config.floatx()
        scale, new_s = self.compensation(None, state[k:], b, a, dtype=dtype)
        return y, scale, new + new_s

    @staticmethod
    def dc_gain_of(b, a):
        """DC gain ``sum(b) / (1 + sum(a))`` of coefficient tuples (floats or scalar tensors)."""
        b, a = tuple(b), tuple(a)
        if all(isinstance(c, float) for c in b + a):
            return sum(b) / (1.0 + sum(a))
        num = b[0]
        for c in b[1:]:
            num = num + c
        den = 1.0
        for c in a:
            den = den + c
        return num / den

    def compensation_state_size(self, scheduled=False):
        """Scalar state values ``compensation`` needs: 0 where a closed form exists.

        A fixed-pole AR1 (either gain) has the DC-normalised step response
        ``1 - p**t`` and Bengio-Nesterov ``1 - p**(t+1)``; any other filter, or
        a pole that varies in time (``scheduled=True``), runs the recursion on
        a unit step with ``order`` scalar state values.
        """
        if not scheduled and self.family() in ("ar1_dc", "ar1_input", "nesterov"):
            return 0
        return self.order

    def compensation(self, t, state=(), b=None, a=None, dtype="float32"):
        """Transient compensation: ``(scale, new_state)`` at 1-based step ``t``.

        ``scale`` is the DC-normalised step response ``s[t-1] / H(1)`` (Adam's
        ``1 - beta**t``), computed in ``dtype`` whatever the dtype of ``b``/``a``
        (pass ``"float32"`` or wider: the recursion stalls in float16). With
        an empty ``state`` (``compensation_state_size() == 0``) the closed form
        is used and ``t`` (a scalar tensor or number) is needed; otherwise the
        recursion advances ``state`` by one step and ``t`` is ignored.
        ``b`` and ``a`` (floats or scalar tensors) replace the coefficients.
        """
        b = self.b if b is None else tuple(b)
        a = self.a if a is None else tuple(a)
        b = tuple(c if isinstance(c, float) else _native.cast(c, dtype) for c in b)
        a = tuple(c if isinstance(c, float) else _native.cast(c, dtype) for c in a)
        if not state and self.order == 0:  # a pure gain: its step response is its DC gain
            return keras.ops.ones((), dtype), ()
        if not state:
            offset = 1.0 if self.family() == "nesterov" else 0.0
            p = _neg(a[0])
            p = _native.cast(p, dtype)
            t = _native.cast(t, dtype)
            return 1.0 - _native.power(p, t + offset if offset else t), ()
        s, new_s = self.recursion(1.0, tuple(state), b, a)
        s = _native.cast(s, dtype)
        dc = self.dc_gain_of(b, a)
        return (s if _is_one(dc) else s / dc), new_s

    def recursion(self, x, state, b=None, a=None, incremental=False):
        """The uncompensated recursion: ``(y_raw, new_state)`` for the per-element state.

        ``x`` may be a tensor or a Python float (the unit step of the
        compensation). The state is the first ``order`` entries of
        ``initial_state``. Nesterov filters keep the velocity ``v`` as state and
        output ``p v[n] + x[n]`` (Keras' form); AR1 filters keep ``y[n-1]``;
        other filters use direct form II transposed. ``incremental=True``
        writes a unit DC gain AR1 as ``y[n-1] + (x[n] - y[n-1]) (1 - p)``
        (Keras' Adam rounding) instead of ``p y[n-1] + (1 - p) x[n]``.
        """
        b = self.b if b is None else tuple(b)
        a = self.a if a is None else tuple(a)
        if len(b) == 1 and len(a) == 1:
            (y_prev,) = state
            if incremental and not isinstance(x, float):
                y = y_prev + _mul(b[0], x - y_prev)
            else:
                y = _mul(b[0], x) + _mul(_neg(a[0]), y_prev)
            return y, (y,)
        if self._is_nesterov:
            (v_prev,) = state
            p = _neg(a[0])
            v = x + _mul(p, v_prev)
            return _mul(p, v) + x, (v,)
        if not state:  # a pure gain
            return _mul(b[0], x), ()
        n = len(state)
        y = _mul(b[0], x) + state[0]
        new = []
        for i in range(1, n + 1):
            term = None
            if i < len(b) and not _is_zero(b[i]):
                term = _mul(b[i], x)
            if i <= len(a) and not _is_zero(a[i - 1]):
                t2 = _mul(_neg(a[i - 1]), y)
                term = t2 if term is None else term + t2
            if i < n:
                term = state[i] if term is None else term + state[i]
            if term is None:
                term = keras.ops.zeros_like(state[0])
            new.append(term)
        return y, tuple(new)

    def recursion_in_place(self, x, state, b=None, a=None, incremental=False):
        """``recursion`` that updates ``state`` in place and returns ``y_raw``.

        For eager PyTorch tensors (``kerastools._native.EAGER``): ``x`` and the
        ``state`` tensors share a dtype, and the coefficients are floats or
        0-d tensors of that dtype. The same arithmetic as ``recursion``, with
        no copy of the state and fewer temporaries; an AR1's output is its
        state tensor itself (read it before the next step).
        """
        b = self.b if b is None else tuple(b)
        a = self.a if a is None else tuple(a)
        if len(b) == 1 and len(a) == 1:
            (y,) = state
            if incremental:
                y.lerp_(x, b[0])
            else:
                _native.scale_(y, _neg(a[0]))
                _native.axpy_(y, b[0], x)
            return y
        if self._is_nesterov:
            (v,) = state
            p = _neg(a[0])
            _native.scale_(v, p)
            v.add_(x)
            return _native.axpy(p, v, x)
        if not state:
            return _mul(b[0], x)
        n = len(state)
        y = _native.axpy(b[0], x, state[0])
        # s[i-1] = s[i] + b[i] x - a[i] y (s[n] = 0), each written straight into s[i-1]: one
        # pass over the weights fewer per state than a copy (or a zeroing), then an update.
        for i in range(1, n + 1):
            s = state[i - 1]
            feed = i < len(b) and not _is_zero(b[i])
            back = i <= len(a) and not _is_zero(a[i - 1])
            if i < n:
                if feed:
                    _native.axpy_into(s, b[i], x, state[i])
                else:
                    s.copy_(state[i])
            elif feed:
                _native.scale_into(s, b[i], x)
            elif back:
                _native.scale_into(s, _neg(a[i - 1]), y)
                back = False
            else:
                s.zero_()
            if back:
                _native.axpy_(s, _neg(a[i - 1]), y)
        return y

    @property
    def _is_nesterov(self):
        return self.family() == "nesterov"

    # --------------------------------------------------------- serialization
    def get_config(self):
        return {
            "b": list(self.b),
            "a": list(self.a),
            "transient_compensation": self.transient_compensation,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, ARMAFilter) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((self.b, self.a, self.transient_compensation))

    def __repr__(self):
        return (f"ARMAFilter(b={list(self.b)}, a={list(self.a)}, "
                f"transient_compensation={self.transient_compensation}, name={self.name!r})")


def _is_one(c):
    return isinstance(c, float) and c == 1.0


def _is_zero(c):
    return isinstance(c, float) and c == 0.0


def _neg(c):
    return -c


def _mul(c, x):
    """``c * x`` for a float or tensor coefficient; ``c == 1`` costs nothing."""
    if isinstance(c, float):
        return x if c == 1.0 else x * c
    if isinstance(x, float):
        return c if x == 1.0 else c * x
    return _native.cast(c, x.dtype) * x


def butterworth_coefficients(order, cutoff):
    """``(b, a)`` with ``a[0] = 1`` of a digital Butterworth low-pass, unit DC gain.

    Analog prototype poles ``s_k = W exp(j pi (2k + N - 1) / (2N))`` with the
    pre-warped ``W = 2 tan(pi cutoff)``, mapped by the bilinear transform
    ``z = (2 + s) / (2 - s)``; all ``N`` zeros at ``z = -1``.
    """
    w = 2.0 * math.tan(math.pi * cutoff)
    k = np.arange(1, order + 1)
    s = w * np.exp(1j * np.pi * (2 * k + order - 1) / (2 * order))
    z = (2.0 + s) / (2.0 - s)
    a = np.real(np.poly(z))
    b = np.real(np.poly(-np.ones(order)))
    b = b * (a.sum() / b.sum())
    return [float(v) for v in b], [float(v) for v in a]
