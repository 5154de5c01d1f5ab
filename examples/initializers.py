# %% [markdown]
# # 6. Initialisation: symmetry, vanishing activations, Xavier, He and LSUV
#
# Two course experiments on Fashion-MNIST (inputs standardised per pixel):
#
# 1. The 6-layer tanh MLP (6 hidden layers of 256 units): activation statistics at
#    initialisation, per layer, for zero and constant init (the symmetry problem: every unit of
#    a layer computes the same thing, and with zeros the gradients vanish: "all zero gradients,
#    no learning!"), `0.001 * rand` (the activations shrink towards zero layer after layer, and
#    so do the gradients), `1/sqrt(fan_in)`, Xavier (Glorot), He and LSUV (Mishkin & Matas:
#    each layer rescaled from data so that its pre-activation variance is 1); then training
#    each for a few epochs, counting distinct hidden units to show the symmetry.
# 2. "MNIST [784, 200, 10], Regularization: None; histograms of a few weights in the 2nd
#    junction after training for 10 epochs": the same comparison of initialisers on
#    Fashion-MNIST (ReLU hidden layer, SGD with momentum).
#
# This file is both `examples/initializers.py` and `notebooks/06_initializers.ipynb` (a jupytext
# pair). As a script:
#
#     python examples/initializers.py --epochs 10

# %%
# %matplotlib inline
import os
import time

import keras
import numpy as np
from matplotlib.figure import Figure

from kerastools import experiments
from kerastools.initializers import GlorotSigmoidUniform
from kerastools.initializers import SmallUniform
from kerastools.initializers import lsuv_initialize
from kerastools.monitoring import gradient_norms


def _fan_in_normal(seed):
    # The course's 1/sqrt(fan_in): W = randn(fan_in, fan_out) / sqrt(fan_in).
    return keras.initializers.VarianceScaling(1.0, "fan_in", "untruncated_normal", seed=seed)


# name -> initializer factory (seed -> initializer); "LSUV" is applied after building.
TANH_INITS = {
    "zeros": lambda s: keras.initializers.Zeros(),
    "constant 0.05": lambda s: keras.initializers.Constant(0.05),
    "0.001 * rand": lambda s: SmallUniform(0.001, seed=s),
    "1/sqrt(fan_in)": _fan_in_normal,
    "Xavier (Glorot normal)": lambda s: keras.initializers.GlorotNormal(seed=s),
    "He normal": lambda s: keras.initializers.HeNormal(seed=s),
    "LSUV": lambda s: keras.initializers.Orthogonal(seed=s),
}
MLP200_INITS = {
    "0.001 * rand": lambda s: SmallUniform(0.001, seed=s),
    "Glorot uniform": lambda s: keras.initializers.GlorotUniform(seed=s),
    "Glorot normal": lambda s: keras.initializers.GlorotNormal(seed=s),
    "Glorot sigmoid (x4)": lambda s: GlorotSigmoidUniform(seed=s),
    "He normal": lambda s: keras.initializers.HeNormal(seed=s),
    "He uniform": lambda s: keras.initializers.HeUniform(seed=s),
    "LSUV": lambda s: keras.initializers.Orthogonal(seed=s),
}
QUICK_TANH_TRAIN = ("constant 0.05", "LSUV")
QUICK_MLP200 = ("0.001 * rand", "LSUV")


# %% [markdown]
# ## Models and measurements
#
# The activations are read through a probe model on the hidden layers' outputs; the kernel
# gradient norms come from `kerastools.monitoring.gradient_norms` (every backend).

# %%
def build_mlp(hidden, activation, init, seed=0, name="mlp"):
    inputs = keras.Input((784,), name="images")
    h = inputs
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation=activation, kernel_initializer=init(seed + i),
                               name=f"hidden{i + 1}")(h)
    outputs = keras.layers.Dense(10, activation="softmax", kernel_initializer=init(seed + 99),
                                 name="output")(h)
    return keras.Model(inputs, outputs, name=name)


JIT = {"jit_compile": "auto"}  # quick mode: no XLA (compiling costs more than it saves)


def compile_model(model, lr=0.01):
    model.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], **JIT)
    return model


def activation_stats(model, x):
    """Per hidden layer: its tanh outputs on ``x`` (NumPy arrays)."""
    hidden = [layer.output for layer in model.layers if layer.name.startswith("hidden")]
    probe = keras.Model(model.inputs[0], hidden)
    return [keras.ops.convert_to_numpy(a) for a in probe(x, training=False)]


def kernel_gradient_norms(model, x, y):
    """||dL/dW|| per Dense layer on one batch, input to output."""
    norms = gradient_norms(model, x, y, loss="sparse_categorical_crossentropy", include_biases=False)
    return [norms[f"{layer.name}/kernel"] for layer in model.layers if hasattr(layer, "kernel")]


def distinct_units(model):
    """Distinct hidden units per layer (columns of the kernel, to 1e-6)."""
    counts = []
    for layer in model.layers:
        if layer.name.startswith("hidden"):
            w = keras.ops.convert_to_numpy(layer.kernel)
            b = keras.ops.convert_to_numpy(layer.bias)[None, :]
            counts.append(len(np.unique(np.round(np.concatenate([w, b]).T, 6), axis=0)))
    return counts


def _test_metrics(model, x, y):
    p = keras.ops.convert_to_numpy(model.predict(x, batch_size=1000, verbose=0))
    loss = -np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-12)))
    return float(loss), float((p.argmax(1) == y).mean())


def tanh_study(x_train, y_train, x_test, y_test, epochs, out, train_names):
    batch = x_train[:512]
    stats, results = {}, {}
    for k, (name, init) in enumerate(TANH_INITS.items()):
        keras.utils.set_random_seed(k)
        model = build_mlp([256] * 6, "tanh", init, seed=10 * k, name="tanh6")
        lsuv = None
        if name == "LSUV":
            lsuv = lsuv_initialize(model, batch, tol=0.05, seed=10 * k)
        acts = activation_stats(model, batch)
        stats[name] = acts
        grads = kernel_gradient_norms(model, batch[:128], y_train[:128])
        results[name] = {
            "activation_mean": [float(a.mean()) for a in acts],
            "activation_std": [float(a.std()) for a in acts],
            "kernel_gradient_norm_at_init": grads,
            "lsuv_variances": lsuv,
        }
        print(f"tanh6 {name:>24}: std per layer "
              + " ".join(f"{s:.3g}" for s in results[name]["activation_std"]))
        if name not in train_names:
            continue
        compile_model(model)
        history = model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=0)
        test_loss, test_acc = _test_metrics(model, x_test, y_test)
        results[name].update({
            "distinct_hidden_units_after_training": distinct_units(model),
            "train_loss": history.history["loss"],
            "test_loss": test_loss,
            "test_accuracy": test_acc,
        })
        print(f"tanh6 {name:>24}: after {epochs} epoch(s) test acc {100 * test_acc:.1f}%"
              f", distinct units per layer {results[name]['distinct_hidden_units_after_training']}")

    # Histograms of the activations, one row per initialiser, one column per layer.
    names = list(stats)
    fig = Figure(figsize=(16, 2.1 * len(names)))
    axes = fig.subplots(len(names), 6, squeeze=False)
    for r, name in enumerate(names):
        for c, a in enumerate(stats[name]):
            ax = axes[r, c]
            ax.hist(a.ravel(), bins=50, range=(-1, 1), color=f"C{r}", histtype="stepfilled")
            ax.set_yticks([])
            ax.set_title(f"layer {c + 1}: mean {a.mean():.2g}, std {a.std():.2g}", fontsize=7)
            if c == 0:
                ax.set_ylabel(name, fontsize=8)
    fig.suptitle("6-layer tanh MLP: activations at initialisation (Fashion-MNIST batch)")
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.03, top=0.95, wspace=0.15, hspace=0.45)
    experiments.show(fig, os.path.join(out, "tanh_activations.png"))

    fig = Figure(figsize=(11, 4))
    ax_std, ax_grad = fig.subplots(1, 2)
    layers = np.arange(1, 7)
    for r, name in enumerate(names):
        ax_std.plot(layers, results[name]["activation_std"], "o-", color=f"C{r}", label=name)
        g = np.maximum(results[name]["kernel_gradient_norm_at_init"], 1e-30)
        ax_grad.semilogy(np.arange(1, len(g) + 1), g, "o-", color=f"C{r}", label=name)
    ax_std.set(xlabel="hidden layer", ylabel="activation std", title="activation std per layer")
    ax_grad.set(xlabel="Dense layer (7 = output)", ylabel="||dL/dW|| (1e-30 = zero)",
                title="kernel gradient norm at initialisation")
    ax_std.legend(fontsize=7)
    fig.tight_layout()
    experiments.show(fig, os.path.join(out, "tanh_activation_std.png"))
    return results


def mlp200_study(x_train, y_train, x_test, y_test, epochs, out, names):
    results, weights, histories = {}, {}, {}
    for k, name in enumerate(names):
        keras.utils.set_random_seed(100 + k)
        model = build_mlp([200], "relu", MLP200_INITS[name], seed=10 * k, name="mlp200")
        if name == "LSUV":
            lsuv_initialize(model, x_train[:512], tol=0.05, seed=10 * k)
        compile_model(model)
        history = model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=0,
                            validation_data=(x_test, y_test))
        weights[name] = keras.ops.convert_to_numpy(model.get_layer("output").kernel)
        histories[name] = history.history
        results[name] = {"test_loss": float(history.history["val_loss"][-1]),
                         "test_accuracy": float(history.history["val_accuracy"][-1]),
                         "output_kernel_std": float(weights[name].std())}
        print(f"[784, 200, 10] {name:>20}: test acc {100 * results[name]['test_accuracy']:.2f}%"
              f", 2nd-junction weight std {results[name]['output_kernel_std']:.3g}")

    fig = Figure(figsize=(4 * len(names), 3.2))
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, (r, name) in zip(axes, enumerate(names)):
        # "a few weights in the 2nd junction": hidden unit 1 to outputs 1-5.
        few = weights[name][0, :5]
        ax.hist(weights[name].ravel(), bins=60, color=f"C{r}", alpha=0.5, label="all 2000",
                histtype="stepfilled")
        for w in few:
            ax.axvline(w, color="k", lw=1.0)
        ax.set_title(f"{name}\ntest acc {100 * results[name]['test_accuracy']:.1f}%", fontsize=8)
        ax.set_yticks([])
    axes[0].legend(fontsize=7)
    fig.suptitle(f"[784, 200, 10]: 2nd-junction weights after {epochs} epochs "
                 "(lines: a few weights, hidden unit 1 to outputs 1-5)")
    fig.tight_layout()
    experiments.show(fig, os.path.join(out, "mlp200_weight_histograms.png"))

    fig = Figure(figsize=(10, 4))
    ax_loss, ax_acc = fig.subplots(1, 2)
    for r, name in enumerate(names):
        ep = np.arange(1, epochs + 1)
        ax_loss.plot(ep, histories[name]["val_loss"], "o-", color=f"C{r}", label=name)
        ax_acc.plot(ep, histories[name]["val_accuracy"], "o-", color=f"C{r}", label=name)
    ax_loss.set(xlabel="epoch", ylabel="test loss")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy")
    ax_loss.legend(fontsize=7)
    fig.tight_layout()
    experiments.show(fig, os.path.join(out, "mlp200_learning_curves.png"))
    return results


# %% [markdown]
# ## Data: Fashion-MNIST standardised per pixel

# %%
args = experiments.parse_args(
    experiments.parser("Weight initialisation: a 6-layer tanh MLP and a [784, 200, 10] MLP.", epochs=10))
epochs = 1 if args.quick else args.epochs
tanh_epochs = 1 if args.quick else min(args.epochs, 3)
(x_train, y_train), (x_test, y_test) = experiments.load_data(args, quick_train=2000, quick_test=1000)
mean, std = x_train.mean(0), x_train.std(0) + 1e-3
x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
JIT["jit_compile"] = False if args.quick else "auto"
out = experiments.run_dir(args.out, "initializers")
start = time.time()

# %% [markdown]
# ## The 6-layer tanh MLP at initialisation, and after a few epochs

# %%
tanh_train = QUICK_TANH_TRAIN if args.quick else tuple(TANH_INITS)
tanh = tanh_study(x_train, y_train, x_test, y_test, tanh_epochs, out, tanh_train)

# %% [markdown]
# ## [784, 200, 10]: the second junction's weights after training

# %%
names = QUICK_MLP200 if args.quick else tuple(MLP200_INITS)
mlp200 = mlp200_study(x_train, y_train, x_test, y_test, epochs, out, names)

results = {"quick": args.quick, "epochs": epochs, "tanh_epochs": tanh_epochs,
           "tanh6": tanh, "mlp200": mlp200, "seconds": time.time() - start,
           "lsuv_normalises": "pre-activation (x @ W + b), variance 1 within tol"}
experiments.write_json(os.path.join(out, "results.json"), results)
print(f"wrote {out}")
