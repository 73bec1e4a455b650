"""restore_variables_on_create: tfe's resume, variables restored by full name."""

import warnings

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.checkpoint import CheckpointMismatchError
from nnlib.engine import variable as _variable


def _model(name="tfe_model", units=4):
    return nnlib.Sequential(
        [layers.Dense(units, activation="relu"), layers.Dense(2)], name=name
    )


_X = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)


def _train_and_save(tmp_path, steps, name):
    model, opt = _model(name), nnlib.optimizers.Adam(0.1)
    step = nnlib.train.get_or_create_global_step()
    loss = nnlib.implicit_value_and_gradients(lambda: nnlib.reduce_sum(model(_X) ** 2))
    for _ in range(steps):
        opt.apply_gradients(loss()[1], global_step=step)
    ckpt = nnlib.Checkpoint(model=model, optimizer=opt, global_step=step)
    path = ckpt.save(tmp_path / "ckpt")
    saved = {v.name: v.numpy().copy() for v in model.variables + opt.variables()}
    saved["global_step"] = step.numpy().copy()
    return path, saved


def _trained(tmp_path, name="tfe_model", steps=2):
    """The checkpoint of a model, optimizer and global step after a few steps, and
    the saved values by name; then a fresh session, as in a new process."""
    nnlib.clear_session()
    path, saved = _train_and_save(tmp_path, steps, name)
    nnlib.clear_session()  # the model is gone: the same names again
    return path, saved


@pytest.fixture(autouse=True)
def _no_hooks_left():
    yield
    assert _variable._creation_hooks == []
    nnlib.clear_session()


def test_a_checkpoint_restores_model_optimizer_and_step_as_they_are_created(tmp_path):
    path, saved = _trained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with nnlib.restore_variables_on_create(path) as report:
            assert "tfe_model/dense/kernel" in report.deferred
            step = nnlib.train.get_or_create_global_step()
            model, opt = _model(), nnlib.optimizers.Adam(0.1)
            model(_X)
            opt.build(model.trainable_variables)
            ckpt = nnlib.Checkpoint(model=model, optimizer=opt, global_step=step)
    assert int(step) == 2 and int(opt.iterations) == 2
    assert int(ckpt.save_counter) == 1  # numbering continues after ckpt-1.h5
    for v in model.variables + opt.variables():
        np.testing.assert_array_equal(v.numpy(), saved[v.name], err_msg=v.name)
    assert sorted(report.matched) == sorted([*saved, "save_counter"])
    assert report.missing == report.unexpected == report.deferred == []


def test_a_weights_file_restores_by_model_name(tmp_path):
    nnlib.clear_session()
    model = _model("weights_only")
    model(_X)
    path = model.save_weights(str(tmp_path / "w.h5"))
    want = model(_X).numpy()
    del model
    nnlib.clear_session()
    with nnlib.restore_variables_on_create(path) as report:
        fresh = _model("weights_only")
        got = fresh(_X).numpy()
    np.testing.assert_array_equal(got, want)
    assert report.matched == [v.name for v in fresh.variables]


def test_unmatched_names_are_reported_and_missing_ones_warn(tmp_path):
    path, _ = _trained(tmp_path, "unmatched")
    with (
        warnings.catch_warnings(record=True) as caught,
        nnlib.restore_variables_on_create(path) as report,
    ):
        warnings.simplefilter("always")
        _model("unmatched")(_X)
        extra = nnlib.Variable(1.0, name="not_in_file")
    assert len(caught) == 1 and caught[0].filename == __file__
    assert "1 variable(s) created in the block" in str(caught[0].message)
    assert float(extra) == 1.0 and report.missing == ["not_in_file"]
    assert "global_step" in report.unexpected  # never created: only reported
    assert "Adam/iterations" in report.unexpected
    assert report.deferred == []
    assert "unexpected" in str(report) and "missing" in str(report)


def test_map_func_renames_and_skips(tmp_path):
    path, saved = _trained(tmp_path, "renamed")

    def rename(name):
        if name.startswith("other/"):
            return "renamed/" + name.removeprefix("other/")
        return None  # anything else: left alone, not reported

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with nnlib.restore_variables_on_create(path, map_func=rename) as report:
            model = nnlib.Sequential(
                [layers.Dense(4, activation="relu"), layers.Dense(2)], name="other"
            )
            model(_X)
            nnlib.optimizers.Adam()
    kernel = model.layers[0].kernel
    np.testing.assert_array_equal(kernel.numpy(), saved["renamed/dense/kernel"])
    assert report.missing == [] and len(report.matched) == 4


def test_a_shape_mismatch_raises_where_the_variable_is_created(tmp_path):
    path, _ = _trained(tmp_path, "mismatched")
    with nnlib.restore_variables_on_create(path):
        model = _model("mismatched", units=5)
        with pytest.raises(
            CheckpointMismatchError,
            match=r"shape +mismatched/dense/kernel +\(3, 4\) +\(3, 5\)",
        ):
            model(_X)


def test_each_saved_value_restores_one_variable_and_only_inside_the_block(tmp_path):
    path = nnlib.Checkpoint(w=nnlib.Variable([1.0, 2.0], name="w")).write(
        str(tmp_path / "c.h5")
    )
    with (
        warnings.catch_warnings(record=True) as caught,
        nnlib.restore_variables_on_create(path) as report,
    ):
        warnings.simplefilter("always")
        first = nnlib.Variable([0.0, 0.0], name="w")
        second = nnlib.Variable([0.0, 0.0], name="w")
    assert "keep their initial values" in str(caught[0].message)
    after = nnlib.Variable([0.0, 0.0], name="w")
    assert first.numpy().tolist() == [1.0, 2.0]
    assert second.numpy().tolist() == after.numpy().tolist() == [0.0, 0.0]
    assert report.matched == ["w"] and report.missing == ["w"]


def test_the_hook_goes_even_when_the_block_raises(tmp_path):
    path = nnlib.Checkpoint(w=nnlib.Variable(1.0, name="w")).write(str(tmp_path / "c"))
    with (
        pytest.raises(RuntimeError, match="boom"),
        nnlib.restore_variables_on_create(path),
    ):
        raise RuntimeError("boom")
    assert _variable._creation_hooks == []


def test_none_restores_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with nnlib.restore_variables_on_create(None) as report:
            assert _variable._creation_hooks == []
            v = nnlib.Variable(3.0, name="w")
    assert float(v) == 3.0 and report.matched == report.missing == []


def test_a_missing_file_is_a_checkpoint_error(tmp_path):
    block = nnlib.restore_variables_on_create(tmp_path / "nope.h5")
    with pytest.raises(nnlib.checkpoint.CheckpointNotFoundError):
        block.__enter__()


def test_map_func_must_be_callable():
    with pytest.raises(TypeError, match="map_func must be callable"):
        nnlib.restore_variables_on_create("x.h5", map_func="tfe_model")
