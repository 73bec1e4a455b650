"""CSVLogger: header, rows, flushing, appending."""

import csv

import numpy as np
import pytest

from nnlib import callbacks


def read_rows(path, separator=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=separator))


def test_header_is_epoch_then_sorted_keys(tmp_path):
    path = tmp_path / "log.csv"
    logger = callbacks.CSVLogger(path)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"val_loss": 0.75, "loss": 0.5, "accuracy": 0.25})
    logger.on_epoch_end(1, {"val_loss": 0.5, "loss": 0.25, "accuracy": 0.5})
    logger.on_train_end()
    assert read_rows(path) == [
        ["epoch", "accuracy", "loss", "val_loss"],
        ["0", "0.25", "0.5", "0.75"],
        ["1", "0.5", "0.25", "0.5"],
    ]


def test_each_row_is_flushed_at_once(tmp_path):
    path = tmp_path / "log.csv"
    logger = callbacks.CSVLogger(str(path))
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.0})
    assert read_rows(path) == [["epoch", "loss"], ["0", "1.0"]]
    logger.on_train_end()


def test_separator(tmp_path):
    path = tmp_path / "log.tsv"
    logger = callbacks.CSVLogger(path, separator="\t")
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.0, "acc": 0.5})
    logger.on_train_end()
    assert path.read_text() == "epoch\tacc\tloss\n0\t0.5\t1.0\n"


def test_overwrites_unless_appending(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("old contents\n")
    logger = callbacks.CSVLogger(path)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.0})
    logger.on_train_end()
    assert read_rows(path) == [["epoch", "loss"], ["0", "1.0"]]


def test_append_continues_the_file_with_its_header(tmp_path):
    path = tmp_path / "log.csv"
    first = callbacks.CSVLogger(path)
    first.on_train_begin()
    first.on_epoch_end(0, {"loss": 1.0, "acc": 0.5})
    first.on_train_end()
    resumed = callbacks.CSVLogger(path, append=True)
    resumed.on_train_begin()
    resumed.on_epoch_end(1, {"loss": 0.5, "acc": 0.75})
    resumed.on_train_end()
    assert read_rows(path) == [
        ["epoch", "acc", "loss"],
        ["0", "0.5", "1.0"],
        ["1", "0.75", "0.5"],
    ]


def test_append_to_a_new_file_writes_the_header(tmp_path):
    path = tmp_path / "new.csv"
    logger = callbacks.CSVLogger(path, append=True)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 2.0})
    logger.on_train_end()
    assert read_rows(path) == [["epoch", "loss"], ["0", "2.0"]]


def test_missing_key_is_na_and_new_key_warns_once(tmp_path):
    path = tmp_path / "log.csv"
    logger = callbacks.CSVLogger(path)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.0, "acc": 0.5})
    logger.on_epoch_end(1, {"loss": 0.5})
    with pytest.warns(UserWarning, match=r"\['val_loss'\] first appeared at epoch 2"):
        logger.on_epoch_end(2, {"loss": 0.25, "acc": 0.75, "val_loss": 0.3})
    logger.on_epoch_end(3, {"loss": 0.2, "acc": 0.8, "val_loss": 0.3})
    logger.on_train_end()
    assert read_rows(path) == [
        ["epoch", "acc", "loss"],
        ["0", "0.5", "1.0"],
        ["1", "NA", "0.5"],
        ["2", "0.75", "0.25"],
        ["3", "0.8", "0.2"],
    ]


def test_numpy_values_are_written_as_numbers(tmp_path):
    path = tmp_path / "log.csv"
    logger = callbacks.CSVLogger(path)
    logger.on_train_begin()
    logger.on_epoch_end(
        0, {"loss": np.float32(0.5), "n": np.int64(3), "per_class": np.array([1, 2])}
    )
    logger.on_train_end()
    assert read_rows(path) == [
        ["epoch", "loss", "n", "per_class"],
        ["0", "0.5", "3.0", "[1.0, 2.0]"],
    ]


def test_new_run_rewrites_the_file(tmp_path):
    path = tmp_path / "log.csv"
    logger = callbacks.CSVLogger(path)
    for run in range(2):
        logger.on_train_begin()
        logger.on_epoch_end(0, {"loss": float(run)})
        logger.on_train_end()
    assert read_rows(path) == [["epoch", "loss"], ["0", "1.0"]]
