"""Bad arguments of the callbacks: a typed error naming the argument, up front.

One row per bad input: (id, call, exception type, message regex). A string
where a boolean belongs (``save_best_only="no"`` is truthy) used to pass; a
``ModelCheckpoint`` folder that cannot exist used to fail after the first epoch.
"""

import os

import numpy as np
import pytest

import nnlib
from nnlib import callbacks
from nnlib.checkpoint import CheckpointWriteError

BOOL = r"must be True or False, got 'no' \(str\)"

BAD_ARGUMENTS = [
    (
        "ModelCheckpoint.save_best_only",
        lambda: callbacks.ModelCheckpoint("m.h5", save_best_only="no"),
        TypeError,
        "ModelCheckpoint: save_best_only " + BOOL,
    ),
    (
        "ModelCheckpoint.save_weights_only",
        lambda: callbacks.ModelCheckpoint("m.h5", save_weights_only="no"),
        TypeError,
        "ModelCheckpoint: save_weights_only " + BOOL,
    ),
    (
        "EarlyStopping.restore_best_weights",
        lambda: callbacks.EarlyStopping(restore_best_weights="no"),
        TypeError,
        "EarlyStopping: restore_best_weights " + BOOL,
    ),
    (
        "CSVLogger.append",
        lambda: callbacks.CSVLogger("log.csv", append="no"),
        TypeError,
        "CSVLogger: append " + BOOL,
    ),
    (
        "BackupAndRestore.delete_checkpoint",
        lambda: callbacks.BackupAndRestore("backup", delete_checkpoint="no"),
        TypeError,
        "BackupAndRestore: delete_checkpoint " + BOOL,
    ),
]


@pytest.mark.parametrize(
    "call, error, match",
    [pytest.param(*row[1:], id=row[0]) for row in BAD_ARGUMENTS],
)
def test_bad_argument_raises_naming_it(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _model():
    model = nnlib.Sequential([nnlib.layers.Dense(1, input_shape=(2,))])
    model.compile(nnlib.optimizers.Adam(0.1), loss="mse")
    return model


def _paths(tmp_path):
    file = tmp_path / "a_file"
    file.write_text("")
    return {
        "under a file": str(file / "ckpt" / "m.h5"),
        "a folder": str(tmp_path),
        "template under a file": str(file / "{epoch:02d}" / "m.h5"),
    }


@pytest.mark.parametrize("case", ["under a file", "a folder", "template under a file"])
def test_model_checkpoint_path_is_checked_before_the_first_step(tmp_path, case):
    path = _paths(tmp_path)[case]
    model = _model()
    before = model.get_weights()
    save = callbacks.ModelCheckpoint(path)
    with pytest.raises(
        CheckpointWriteError, match="ModelCheckpoint: cannot save"
    ) as info:
        model.fit(np.ones((8, 2)), np.zeros((8, 1)), verbose=0, callbacks=[save])
    assert os.path.dirname(path.split("{")[0]).split(os.sep)[-1] in str(info.value)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations) == 0


def test_model_checkpoint_into_a_new_folder_still_works(tmp_path):
    path = str(tmp_path / "new" / "deeper" / "{epoch}.h5")
    model = _model()
    model.fit(
        np.ones((8, 2)),
        np.zeros((8, 1)),
        epochs=2,
        verbose=0,
        callbacks=[callbacks.ModelCheckpoint(path, monitor="loss")],
    )
    assert sorted(os.listdir(tmp_path / "new" / "deeper")) == ["1.h5", "2.h5"]
