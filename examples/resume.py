"""Stop training, resume it from a checkpoint, and get exactly the same weights.

Trains a small MLP (with dropout and batch normalization, so random numbers and
moving statistics matter) twice: once in one go, and once stopped half way and
resumed from the newest of the checkpoints a CheckpointManager kept, in a fresh
model and optimizer built from another seed. A Checkpoint holds the model, the
optimizer (its step count and Adam's slots) and nnlib's random state; the data
order is a function of the epoch number, so the resumed run skips the batches
already done and sees the same ones after. The script asserts that both runs
end with bit-identical weights.

Run:
    python3 examples/resume.py
"""

import math
import shutil
from pathlib import Path

import numpy as np
from _common import load_mnist, make_parser, parse_args, plot_history, report

import nnlib

layers = nnlib.layers


def make_model():
    return nnlib.Sequential(
        [
            layers.Dense(256, input_shape=(784,)),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dropout(0.2),
            layers.Dense(10),
        ],
        name="mlp",
    )


class Trainer:
    """One training run: a model, its optimizer, and a loop that can stop."""

    def __init__(self, args, train, test, seed):
        nnlib.clear_session()
        nnlib.random.set_seed(seed)  # only the initial weights depend on it
        self.args, self.train, self.test = args, train, test
        self.model = make_model()
        self.optimizer = nnlib.optimizers.Adam(args.learning_rate)
        self.loss_object = nnlib.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.losses = {}  # step -> loss
        self.accuracies = {}  # epoch -> test accuracy at its end
        n = len(train[0])
        self.steps_per_epoch = args.steps or math.ceil(n / args.batch_size)

    def batches(self, epoch, skip):
        """Epoch ``epoch``'s batches after the first ``skip``: the order depends
        only on the epoch number, so a resumed run sees the same batches."""
        data = (
            nnlib.data.Dataset.from_tensor_slices(self.train)
            .shuffle(len(self.train[0]), seed=self.args.seed * 1000 + epoch)
            .batch(self.args.batch_size)
            .take(self.steps_per_epoch)
        )
        return data.skip(skip)

    def run(self, until, manager=None, save_every=None):
        """Trains until the optimizer has taken ``until`` steps in all."""

        def loss_fn(x, y):
            return self.loss_object(y, self.model(x, training=True))

        step_fn = nnlib.implicit_value_and_gradients(loss_fn)
        while int(self.optimizer.iterations) < until:
            done = int(self.optimizer.iterations)
            epoch, skip = divmod(done, self.steps_per_epoch)
            for x, y in self.batches(epoch, skip):
                loss, grads_and_vars = step_fn(x, y)
                self.optimizer.apply_gradients(grads_and_vars)
                step = int(self.optimizer.iterations)
                self.losses[step] = float(loss)
                if step % self.steps_per_epoch == 0:
                    self.accuracies[step // self.steps_per_epoch] = self.accuracy()
                if manager is not None and step % save_every == 0:
                    path = manager.save(checkpoint_number=step)
                    print(f"  step {step}: saved {path}")
                if step >= until:
                    return

    def accuracy(self):
        x, y = self.test
        logits = self.model.predict(x, batch_size=1000)
        return float(np.mean(np.argmax(logits, axis=-1) == y))

    def epoch_losses(self):
        per_epoch = {}
        for step, loss in sorted(self.losses.items()):
            per_epoch.setdefault((step - 1) // self.steps_per_epoch, []).append(loss)
        return [float(np.mean(v)) for _, v in sorted(per_epoch.items())]


def main(argv=None):
    parser = make_parser(__doc__, epochs=2, batch_size=128, learning_rate=1e-3)
    args = parse_args(parser, argv)
    (x_train, y_train), test = load_mnist(args)
    train = (x_train, y_train)

    print("run 1: in one go")
    whole = Trainer(args, train, test, seed=args.seed)
    total = whole.steps_per_epoch * args.epochs
    whole.run(total)

    folder = Path(args.out_dir) / "resume_checkpoints"
    shutil.rmtree(folder, ignore_errors=True)
    save_every = max(1, total // 5)
    last_save = total // 2 // save_every * save_every
    stop_at = min(total, last_save + max(1, save_every // 2))  # between two saves
    print(f"run 2: stopped after step {stop_at} of {total}, saving every {save_every}")
    first = Trainer(args, train, test, seed=args.seed)
    checkpoint = nnlib.Checkpoint(model=first.model, optimizer=first.optimizer)
    manager = nnlib.CheckpointManager(checkpoint, folder, max_to_keep=2)
    first.run(stop_at, manager, save_every)
    print(f"  kept: {[Path(p).name for p in manager.checkpoints]}")
    before = first.losses, first.accuracies
    del first, checkpoint, manager  # as if the process had died here

    print("run 3: a fresh model (another seed) resumes from the latest checkpoint")
    resumed = Trainer(args, train, test, seed=args.seed + 12345)
    # Built before restoring: no variable is created after the random state is
    # restored, so the random numbers that follow are those of run 1.
    resumed.model(x_train[:1])
    checkpoint = nnlib.Checkpoint(model=resumed.model, optimizer=resumed.optimizer)
    latest = nnlib.latest_checkpoint(folder)
    if latest is None:
        print("  no checkpoint was written yet: starting from scratch")
    checkpoint.restore(latest).assert_consumed()
    start = int(resumed.optimizer.iterations)
    print(f"  restored {latest}: step {start} ({stop_at - start} steps to redo)")
    # The curves of run 3 start with run 2's record up to the checkpoint.
    resumed.losses = {s: v for s, v in before[0].items() if s <= start}
    resumed.accuracies = {
        e: v for e, v in before[1].items() if e * resumed.steps_per_epoch <= start
    }
    resumed.run(total)

    identical = all(
        np.array_equal(a, b)
        for a, b in zip(whole.model.get_weights(), resumed.model.get_weights())
    )
    print(f"weights identical to run 1 after {total} steps: {identical}")
    assert identical, "the resumed run differs from the uninterrupted one"

    history = {
        "loss (in one go)": whole.epoch_losses(),
        "loss (stopped and resumed)": resumed.epoch_losses(),
        "test accuracy (in one go)": [v for _, v in sorted(whole.accuracies.items())],
        "test accuracy (stopped and resumed)": [
            v for _, v in sorted(resumed.accuracies.items())
        ],
    }
    plot_history(
        history, Path(args.out_dir) / "resume.png", "resuming from a checkpoint"
    )
    report(resumed.accuracy())


if __name__ == "__main__":
    main()
