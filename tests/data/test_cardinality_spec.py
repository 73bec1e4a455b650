"""cardinality() of every transformation, and element_spec."""

import ast
import pathlib

import numpy as np
import pytest

import nnlib
from nnlib.data import INFINITE, UNKNOWN, Dataset, TensorSpec


def gen():
    yield from range(3)


R10 = Dataset.range(10)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: Dataset.from_tensor_slices(np.zeros((7, 2))), 7),
        (lambda: Dataset.from_tensors(np.zeros(3)), 1),
        (lambda: Dataset.from_generator(gen), UNKNOWN),
        (lambda: R10, 10),
        (lambda: R10.batch(3), 4),
        (lambda: R10.batch(3, drop_remainder=True), 3),
        (lambda: R10.padded_batch(4), 3),
        (lambda: R10.take(4), 4),
        (lambda: R10.take(40), 10),
        (lambda: R10.take(-1), 10),
        (lambda: R10.skip(4), 6),
        (lambda: R10.skip(40), 0),
        (lambda: R10.skip(-1), 0),
        (lambda: R10.repeat(3), 30),
        (lambda: R10.repeat(0), 0),
        (lambda: R10.repeat(), INFINITE),
        (lambda: R10.repeat(-1), INFINITE),
        (lambda: R10.take(0).repeat(), 0),
        (lambda: R10.repeat().take(5), 5),
        (lambda: R10.repeat().skip(5), INFINITE),
        (lambda: R10.repeat().batch(2), INFINITE),
        (lambda: R10.map(lambda v: v), 10),
        (lambda: R10.map(lambda v: v, num_parallel_calls=2), 10),
        (lambda: Dataset.zip((R10, R10.take(3))), 3),
        (lambda: Dataset.zip((R10, R10.repeat())), 10),
        (lambda: Dataset.zip((R10.repeat(), R10.repeat())), INFINITE),
        (lambda: Dataset.zip((R10, R10.filter(bool))), UNKNOWN),
        (lambda: R10.concatenate(R10.take(2)), 12),
        (lambda: R10.concatenate(R10.repeat()), INFINITE),
        (lambda: R10.concatenate(R10.filter(bool)), UNKNOWN),
        (lambda: R10.enumerate(), 10),
        (lambda: R10.shard(3, 0), 4),
        (lambda: R10.shard(3, 2), 3),
        (lambda: R10.shuffle(4), 10),
        (lambda: R10.prefetch(2), 10),
        (lambda: R10.cache(), 10),
        (lambda: R10.filter(lambda v: True), UNKNOWN),
        (lambda: R10.batch(2).unbatch(), UNKNOWN),
        (lambda: R10.interleave(lambda v: R10, cycle_length=2), UNKNOWN),
        (lambda: R10.filter(bool).batch(2), UNKNOWN),
        (lambda: R10.filter(bool).repeat(), INFINITE),
    ],
)
def test_cardinality(make, expected):
    ds = make()
    assert ds.cardinality() == expected
    assert type(ds.cardinality()) is int
    if expected >= 0:
        assert sum(1 for _ in ds) == expected


def test_constants_are_tensorflows():
    assert (INFINITE, UNKNOWN) == (-1, -2)


def test_element_spec_of_slices_batches_and_transforms():
    x = np.zeros((6, 28, 28), np.uint8)
    y = np.zeros(6, np.int64)
    ds = Dataset.from_tensor_slices((x, y))
    assert ds.element_spec == (TensorSpec((28, 28), "uint8"), TensorSpec((), "int64"))
    batched = ds.shuffle(6).batch(4)
    assert batched.element_spec == (
        TensorSpec((None, 28, 28), "uint8"),
        TensorSpec((None,), "int64"),
    )
    dropped = ds.batch(4, drop_remainder=True).element_spec
    assert dropped[0].shape == (4, 28, 28)
    assert ds.batch(4).unbatch().element_spec == ds.element_spec
    assert ds.enumerate().element_spec[0] == TensorSpec((), "int64")
    assert ds.take(2).repeat().prefetch(1).cache().element_spec == ds.element_spec


def test_element_spec_after_map_calls_the_function_once():
    calls = []

    def fn(x, y):
        calls.append(1)
        return {"x": x.astype(np.float32) / 255, "y": y}

    ds = Dataset.from_tensor_slices((np.zeros((5, 3), np.uint8), np.arange(5)))
    spec = ds.shuffle(5).map(fn).batch(2).prefetch(1).element_spec
    assert spec == {
        "x": TensorSpec((None, 3), "float32"),
        "y": TensorSpec((None,), "int64"),
    }
    assert len(calls) == 1
    mapped = ds.map(fn)
    assert mapped.element_spec is mapped.element_spec  # computed once, kept
    assert len(calls) == 2


def test_element_spec_of_padded_batch_zip_and_ranges():
    ds = Dataset.range(1, 4).map(lambda n: np.arange(n))
    assert ds.padded_batch(2).element_spec == TensorSpec((None, None), "int64")
    assert ds.padded_batch(2, padded_shapes=(5,)).element_spec.shape == (None, 5)
    z = Dataset.zip({"a": Dataset.range(2), "b": Dataset.from_tensors(np.zeros(3))})
    assert z.element_spec == {
        "a": TensorSpec((), "int64"),
        "b": TensorSpec((3,), "float64"),
    }


def test_element_spec_of_an_empty_mapped_dataset_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        _ = Dataset.range(0).map(lambda v: v).element_spec


def test_repr_does_not_run_user_functions():
    calls = []
    ds = Dataset.range(3).map(lambda v: calls.append(1) or v)
    assert "element_spec=..." in repr(ds) and not calls
    assert "TensorSpec(shape=(None,), dtype=int64)" in repr(Dataset.range(3).batch(2))


# nnlib's utilities that import nothing from nnlib: random state, atomic file
# replacement, argument checks.
UTILITIES = {"random", "_atomic", "_args"}


def test_the_data_layer_imports_only_numpy_and_nnlib_random():
    folder = pathlib.Path(nnlib.__file__).parent / "data"
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                names = {a.name for a in node.names} if node.module is None else set()
                assert names | {node.module} - {None} <= UTILITIES, path
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                assert node.module.split(".")[0] not in ("nnlib", "h5py"), path
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] not in ("nnlib", "h5py", "torch"), (
                        path
                    )
