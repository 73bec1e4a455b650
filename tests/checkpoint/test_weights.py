"""save_weights / load_weights: exact round trips, naming, reports, strictness."""

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.checkpoint import CheckpointMismatchError, RestoreReport


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "weights.h5")


@pytest.mark.parametrize("kind", ["mlp", "conv", "lstm"])
def test_round_trip_is_exact(kind, path, make_mlp, make_conv, make_lstm, helpers):
    make = {"mlp": make_mlp, "conv": make_conv, "lstm": make_lstm}[kind]
    model = make()
    helpers.scramble(model, seed=2)  # BN moving statistics too
    saved = helpers.values(model)
    assert model.save_weights(path) == path
    other = make()
    report = other.load_weights(path)
    assert helpers.same(helpers.values(other), saved)
    assert not report.mismatched and len(report.matched) == len(saved)
    x = np.random.default_rng(0).normal(size=(2, *model._build_input_shape[1:]))
    np.testing.assert_array_equal(model(x).numpy(), other(x).numpy())


def test_relative_names_load_into_a_renamed_model(path, make_mlp, helpers):
    first = make_mlp()
    second = make_mlp()
    assert first.name == "mnist" and second.name == "mnist_1"
    first.save_weights(path)
    report = second.load_weights(path)
    assert report.matched == [
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
    ]
    assert helpers.same(helpers.values(first), helpers.values(second))


def test_a_bare_layer_round_trips(path):
    dense = layers.Dense(3)
    dense(np.ones((1, 2)))
    dense.save_weights(path)
    other = layers.Dense(3)
    other(np.ones((1, 2)))
    assert other.load_weights(path).matched == ["kernel", "bias"]
    np.testing.assert_array_equal(other.kernel.numpy(), dense.kernel.numpy())


def test_by_position_pairs_renamed_layers(path, helpers):
    source = nnlib.Sequential(
        [layers.Dense(3, input_shape=(2,), name="a"), layers.Dense(2, name="b")]
    )
    target = nnlib.Sequential(
        [layers.Dense(3, input_shape=(2,), name="x"), layers.Dense(2, name="y")]
    )
    source.save_weights(path)
    with pytest.raises(CheckpointMismatchError) as caught:
        target.load_weights(path)  # by name: nothing fits
    assert len(caught.value.report.missing) == 4
    report = target.load_weights(path, by_name=False)
    assert report.matched == ["x/kernel", "x/bias", "y/kernel", "y/bias"]
    assert helpers.same(helpers.values(source), helpers.values(target))


def test_by_position_needs_a_built_model(path, make_mlp):
    make_mlp().save_weights(path)
    with pytest.raises(ValueError, match="call the model"):
        make_mlp(build=False).load_weights(path, by_name=False)


def _mismatched_pair(path):
    """A saved model and a target differing in every possible way."""
    saved = nnlib.Sequential(
        [
            layers.Dense(4, input_shape=(3,), name="same"),
            layers.Dense(2, name="wide"),
            layers.Dense(2, name="gone", dtype="float64"),
        ]
    )
    saved.save_weights(path)
    target = nnlib.Sequential(
        [
            layers.Dense(4, input_shape=(3,), name="same", dtype="float64"),
            layers.Dense(5, name="wide"),
            layers.Dense(2, name="new"),
        ]
    )
    return saved, target


def test_report_lists_every_kind_of_mismatch_as_a_table(path):
    _, target = _mismatched_pair(path)
    with pytest.raises(CheckpointMismatchError) as caught:
        target.load_weights(path)
    report = caught.value.report
    assert isinstance(report, RestoreReport) and isinstance(caught.value, ValueError)
    assert report.shape_mismatched == [
        ("wide/kernel", (4, 2), (4, 5)),
        ("wide/bias", (2,), (5,)),
    ]
    assert report.missing == ["new/kernel", "new/bias"]
    assert report.unexpected == ["gone/kernel", "gone/bias"]
    assert [d[0] for d in report.dtype_changed] == ["same/kernel", "same/bias"]
    print(report)
    table = [" ".join(line.split()) for line in str(report).splitlines()]
    assert "problem variable saved model" in table
    for row in [
        "shape wide/kernel (4, 2) (4, 5)",
        "missing new/kernel - (5, 2) float32",
        "unexpected gone/kernel (2, 2) float64 -",
        "dtype (cast) same/kernel float32 float64",
    ]:
        assert row in table, table
    message = str(caught.value)
    assert path in message and "(4, 2)" in message and "(4, 5)" in message
    assert "strict=False" in message and "skip_mismatch=True" in message


def test_strict_failure_changes_nothing(path, helpers):
    _, target = _mismatched_pair(path)
    before = helpers.values(target)
    with pytest.raises(CheckpointMismatchError):
        target.load_weights(path)
    with pytest.raises(CheckpointMismatchError):  # shape mismatches still block
        target.load_weights(path, strict=False)
    assert helpers.same(helpers.values(target), before)


def test_skip_mismatch_loads_what_fits_and_warns_per_variable(path, helpers):
    saved, target = _mismatched_pair(path)
    before = helpers.values(target)
    with pytest.warns(UserWarning) as record:
        report = target.load_weights(path, strict=False, skip_mismatch=True)
    messages = [str(w.message) for w in record]
    assert sum("skipping 'wide/kernel'" in m for m in messages) == 1
    assert sum("skipping 'wide/bias'" in m for m in messages) == 1
    assert any("match no variable" in m for m in messages)  # the unexpected ones
    assert {w.filename for w in record} == {__file__}  # the user's line
    assert report.skipped == ["wide/kernel", "wide/bias"]
    assert report.matched == ["same/kernel", "same/bias"]
    after = helpers.values(target)
    np.testing.assert_array_equal(
        after[0], saved.variables[0].numpy().astype(np.float64)
    )
    assert after[0].dtype == np.float64  # cast to the model's dtype
    assert helpers.same(after[2:], before[2:])


def test_skip_mismatch_alone_still_reports_missing_names(path):
    _, target = _mismatched_pair(path)
    with pytest.warns(UserWarning), pytest.raises(CheckpointMismatchError) as caught:
        target.load_weights(path, skip_mismatch=True)
    assert caught.value.report.missing == ["new/kernel", "new/bias"]


def test_strict_false_returns_missing_and_unexpected(path, make_mlp):
    make_mlp(hidden=8).save_weights(path)
    narrower = nnlib.Sequential(
        [layers.Dense(3, input_shape=(5,), name="dense"), layers.Dense(4, name="extra")]
    )
    with pytest.warns(UserWarning) as record:
        report = narrower.load_weights(path, strict=False, skip_mismatch=True)
    assert any("match no variable" in str(w.message) for w in record)
    assert report.skipped == ["dense/kernel", "dense/bias"]
    assert report.missing == ["extra/kernel", "extra/bias"]
    assert report.unexpected == ["dense_1/kernel", "dense_1/bias"]


def test_deferred_restore_applies_values_at_creation(path, make_mlp, helpers):
    source = make_mlp()
    helpers.scramble(source)
    source.save_weights(path)
    fresh = make_mlp(build=False)
    report = fresh.load_weights(path)  # before the first call
    assert fresh.variables == [] and len(report.deferred) == 4
    x = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    np.testing.assert_array_equal(fresh(x).numpy(), source(x).numpy())
    assert helpers.same(helpers.values(fresh), helpers.values(source))
    assert report.deferred == [] and len(report.matched) == 4
    from nnlib.layers import base

    assert base._variable_created_hooks == []  # nothing left pending


def test_deferred_shape_mismatch_raises_at_creation(path, make_mlp):
    make_mlp(hidden=8).save_weights(path)
    fresh = make_mlp(hidden=6, build=False)
    fresh.load_weights(path)
    with pytest.raises(CheckpointMismatchError, match="hidden/kernel|dense/kernel"):
        fresh(np.zeros((1, 5), np.float32))


def test_a_new_load_supersedes_pending_values(path, tmp_path, make_mlp, helpers):
    first, second = make_mlp(), make_mlp()
    helpers.scramble(first, 1)
    helpers.scramble(second, 2)
    first.save_weights(path)
    other = str(tmp_path / "other.h5")
    second.save_weights(other)
    fresh = make_mlp(build=False)
    fresh.load_weights(path)
    fresh.load_weights(other)
    fresh(np.zeros((1, 5), np.float32))
    assert helpers.same(helpers.values(fresh), helpers.values(second))


def test_saving_an_unbuilt_model_says_how(path, make_mlp):
    with pytest.raises(ValueError, match="no variables yet"):
        make_mlp(build=False).save_weights(path)


def test_a_checkpoint_file_is_not_a_weights_file(tmp_path, make_mlp):
    model = make_mlp()
    path = nnlib.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    with pytest.raises(CheckpointMismatchError, match="Checkpoint"):
        model.load_weights(path)
