"""One worker of the baseline example's training under MultiWorkerMirroredStrategy.

    TF_CONFIG='{"cluster": {"worker": ["localhost:P1", "localhost:P2"]},
                "task": {"type": "worker", "index": I}}' \\
    python distributed_baseline.py OUT_DIR DATA_DIR [--train-size 2000 --test-size 500]

Builds examples/baseline.py's 784-128-10 model in ``strategy.scope()`` with
the kerastools ``adam`` preset (the baseline's Adam), trains it one epoch on
a class-balanced Fashion-MNIST subset with a global batch of 32 (16 per
worker), evaluates it on the test subset and writes OUT_DIR/worker.npz (final
weights, per-step losses, test loss and accuracy) so that the caller can
check that the workers agree. Only loopback addresses belong in TF_CONFIG.

Why a training loop of its own and not ``baseline.main()`` / ``Model.fit``:
Keras 3.15's ``fit`` cannot run under MultiWorkerMirroredStrategy. It first
calls ``strategy.reduce("MEAN", first_batch)`` for a symbolic build, which
fails on a PerReplica of input tensors, and, with that step skipped, its
train step reduces the scalar logs with ``strategy.reduce("MEAN", v, axis=0)``,
which fails on rank-0 tensors (keras-team/keras#20585,
tensorflow/tensorflow#72388). The loop below is the one the TensorFlow
multi-worker guide uses: ``strategy.run`` of a replica step, loss summed
and divided by the global batch, gradients all-reduced by the optimizer.
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ["KERAS_BACKEND"] = "tensorflow"

import tensorflow as tf  # noqa: E402

GLOBAL_BATCH = 32


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("data_dir")
    p.add_argument("--train-size", type=int, default=2000)
    p.add_argument("--test-size", type=int, default=500)
    args = p.parse_args()
    cluster = json.loads(os.environ["TF_CONFIG"])["cluster"]["worker"]
    if not all(addr.rsplit(":", 1)[0] in ("localhost", "127.0.0.1") for addr in cluster):
        raise ValueError(f"Only loopback workers are allowed. Received: {cluster!r}")

    # Must exist before any other TensorFlow op runs.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()

    import keras
    import numpy as np

    from kerastools import experiments
    from kerastools import optimizers as kto
    from kerastools.datasets import load_fashion_mnist

    (x, y), (x_test, y_test) = load_fashion_mnist(
        args.data_dir, flatten=True, train_size=args.train_size, test_size=args.test_size)
    keras.utils.set_random_seed(0)
    with strategy.scope():
        # examples/baseline.py's model (compiled there; the loop below is custom)
        model = experiments.mlp(name="baseline_mlp")
        optimizer = kto.adam(1e-3)
        optimizer.build(model.trainable_variables)

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = (tf.data.Dataset.from_tensor_slices((x, y.astype("int32")))
               .batch(GLOBAL_BATCH, drop_remainder=True).with_options(options))
    dist_dataset = strategy.experimental_distribute_dataset(dataset)

    def replica_step(xb, yb):
        with tf.GradientTape() as tape:
            probs = model(xb, training=True)
            per_sample = keras.losses.sparse_categorical_crossentropy(yb, probs)
            loss = tf.reduce_sum(per_sample) / GLOBAL_BATCH
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def train_step(batch):
        per_replica = strategy.run(replica_step, args=batch)
        return strategy.reduce("SUM", per_replica, axis=None)

    losses = [float(train_step(batch)) for batch in dist_dataset]
    weights = [np.asarray(w) for w in model.get_weights()]
    probs = np.asarray(model(x_test, training=False))
    test_loss = float(np.mean(-np.log(probs[np.arange(len(y_test)), y_test] + 1e-12)))
    test_accuracy = float(np.mean(np.argmax(probs, axis=1) == y_test))
    np.savez(os.path.join(args.out, "worker.npz"), *weights, losses=np.asarray(losses),
             test_loss=np.asarray(test_loss), test_accuracy=np.asarray(test_accuracy),
             replicas=np.asarray(strategy.num_replicas_in_sync),
             iterations=np.asarray(int(optimizer.iterations.numpy())))
    print("WORKER_DONE", json.dumps({"replicas": strategy.num_replicas_in_sync,
                                     "steps": len(losses), "first_loss": losses[0],
                                     "last_loss": losses[-1], "test_loss": test_loss,
                                     "test_accuracy": test_accuracy}))


if __name__ == "__main__":
    main()
