"""Dataset sources: slices, tensors, generators, ranges, zip, files."""

import collections
import os

import numpy as np
import pytest

import nnlib
from nnlib.data import Dataset, TensorSpec, TextLineDataset

Point = collections.namedtuple("Point", ["x", "y"])


def test_slices_of_one_array_yield_rows_as_numpy():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    rows = list(Dataset.from_tensor_slices(x))
    assert len(rows) == 4
    assert all(isinstance(r, np.ndarray) and r.dtype == np.float32 for r in rows)
    np.testing.assert_array_equal(np.stack(rows), x)


def test_slices_of_a_1d_array_yield_numpy_scalars():
    values = list(Dataset.from_tensor_slices(np.array([1.5, 2.5], np.float32)))
    assert all(isinstance(v, np.float32) for v in values)


def test_slices_keep_tuple_dict_namedtuple_and_nested_structure():
    x, y = np.zeros((3, 2)), np.arange(3)
    element = next(iter(Dataset.from_tensor_slices((x, y))))
    assert type(element) is tuple and len(element) == 2
    element = next(iter(Dataset.from_tensor_slices({"b": y, "a": x})))
    assert type(element) is dict and list(element) == ["b", "a"]
    element = next(iter(Dataset.from_tensor_slices(Point(x, y))))
    assert isinstance(element, Point)
    nested = {"image": x, "labels": (y, {"extra": y * 2})}
    element = list(Dataset.from_tensor_slices(nested))[2]
    assert element["image"].shape == (2,)
    assert int(element["labels"][0]) == 2
    assert int(element["labels"][1]["extra"]) == 4


def test_slices_treat_a_list_as_one_array_like_tensorflow():
    values = [int(v) for v in Dataset.from_tensor_slices([4, 5, 6])]
    assert values == [4, 5, 6]
    rows = list(Dataset.from_tensor_slices([[1, 2], [3, 4]]))
    assert rows[1].tolist() == [3, 4]


def test_slices_accept_nnlib_tensors():
    t = nnlib.constant([[1.0, 2.0], [3.0, 4.0]])
    rows = list(Dataset.from_tensor_slices(t))
    assert isinstance(rows[0], np.ndarray)
    assert rows[1].tolist() == [3.0, 4.0]


def test_slices_are_read_only_views_of_the_source():
    x = np.zeros((3, 2))
    row = next(iter(Dataset.from_tensor_slices(x)))
    with pytest.raises(ValueError, match="read-only"):
        row[0] = 1.0
    assert x.flags.writeable  # the caller's array is untouched


def test_slices_of_different_lengths_name_both_lengths_and_components():
    with pytest.raises(ValueError, match=r"\[0\] has 8 and component \[1\] has 5"):
        Dataset.from_tensor_slices((np.zeros(8), np.zeros(5)))
    with pytest.raises(ValueError, match=r"\['x'\] has 4.*\['y'\] has 3"):
        Dataset.from_tensor_slices({"x": np.zeros(4), "y": np.zeros(3)})


def test_slices_of_a_scalar_or_nothing_are_errors():
    with pytest.raises(ValueError, match="scalar"):
        Dataset.from_tensor_slices((np.zeros(3), 5.0))
    with pytest.raises(ValueError, match="no arrays"):
        Dataset.from_tensor_slices(())
    with pytest.raises(TypeError, match="ragged"):
        Dataset.from_tensor_slices([[1, 2], [3]])


def test_empty_slices_give_an_empty_dataset():
    ds = Dataset.from_tensor_slices(np.zeros((0, 3)))
    assert list(ds) == [] and ds.cardinality() == 0
    assert list(ds.batch(4)) == []


def test_from_tensors_is_one_element():
    ds = Dataset.from_tensors((np.ones((2, 3)), 7))
    (element,) = list(ds)
    assert element[0].shape == (2, 3) and int(element[1]) == 7
    assert ds.cardinality() == 1
    batch = next(iter(ds.batch(4)))
    assert batch[0].shape == (1, 2, 3) and batch[1].tolist() == [7]


def test_from_generator_calls_the_function_once_per_pass():
    calls = []

    def gen():
        calls.append(1)
        yield from range(3)

    ds = Dataset.from_generator(gen)
    assert [int(v) for v in ds] == [0, 1, 2]
    assert [int(v) for v in ds] == [0, 1, 2]
    assert len(calls) == 2


def test_from_generator_passes_args_and_converts_lists_to_arrays():
    def gen(n, scale):
        for i in range(n):
            yield [i * scale, i], {"k": i}

    ((first, second),) = list(Dataset.from_generator(gen, args=(1, 10.0)))
    assert isinstance(first, np.ndarray) and first.tolist() == [0.0, 0.0]
    assert isinstance(second, dict)


def test_from_generator_checks_and_converts_to_the_signature():
    def gen():
        yield np.zeros(3, np.float64), 1
        yield np.zeros(4, np.float64), 2

    sig = (TensorSpec((None,), "float32"), TensorSpec((), "int32"))
    values = list(Dataset.from_generator(gen, output_signature=sig))
    assert values[0][0].dtype == np.float32 and values[1][1].dtype == np.int32
    assert Dataset.from_generator(gen, output_signature=sig).element_spec == sig


def test_from_generator_inconsistent_shape_names_expected_and_actual():
    def gen():
        yield np.zeros((2, 3))
        yield np.zeros((2, 4))

    ds = Dataset.from_generator(gen, output_signature=TensorSpec((2, 3), "float64"))
    with pytest.raises(
        ValueError, match=r"element 1.*shape \(2, 4\), expected shape \(2, 3\)"
    ):
        list(ds)


def test_from_generator_rejects_bad_nesting_dtype_and_generator_objects():
    def gen():
        yield 1.5

    with pytest.raises(ValueError, match="nested as"):
        list(
            Dataset.from_generator(
                gen, output_signature=(TensorSpec(()), TensorSpec(()))
            )
        )
    with pytest.raises(TypeError, match="does not convert to int64"):
        list(Dataset.from_generator(gen, output_signature=TensorSpec((), "int64")))
    with pytest.raises(TypeError, match="pass the generator function"):
        Dataset.from_generator(gen())
    with pytest.raises(TypeError, match="TensorSpec"):
        Dataset.from_generator(gen, output_signature=(2,))


def test_from_generator_without_signature_peeks_its_spec():
    def gen():
        yield np.zeros((2, 5), np.float32), np.int64(1)

    spec = Dataset.from_generator(gen).batch(8).element_spec
    assert spec == (TensorSpec((None, 2, 5), "float32"), TensorSpec((None,), "int64"))


def test_range_is_like_pythons_range_in_int64():
    assert [int(v) for v in Dataset.range(4)] == [0, 1, 2, 3]
    assert [int(v) for v in Dataset.range(10, 0, -3)] == [10, 7, 4, 1]
    assert next(iter(Dataset.range(2))).dtype == np.int64
    assert Dataset.range(10, 0, -3).cardinality() == 4
    with pytest.raises(ValueError, match="step"):
        Dataset.range(0, 5, 0)
    with pytest.raises(TypeError, match="int"):
        Dataset.range(2.5)


def test_zip_nests_like_its_argument_and_stops_with_the_shortest():
    a, b = Dataset.range(3), Dataset.range(10, 15)
    assert [(int(p), int(q)) for p, q in Dataset.zip((a, b))] == [
        (0, 10),
        (1, 11),
        (2, 12),
    ]
    assert [(int(p), int(q)) for p, q in Dataset.zip(a, b)] == [
        (0, 10),
        (1, 11),
        (2, 12),
    ]
    element = next(iter(Dataset.zip({"a": a, "pair": (b, a)})))
    assert int(element["a"]) == 0 and int(element["pair"][0]) == 10
    assert Dataset.zip((a, b)).cardinality() == 3
    with pytest.raises(TypeError, match=r"\[1\] is a list"):
        Dataset.zip((a, [1, 2]))


def test_zip_of_generator_and_slices_falls_back_to_iteration():
    def gen():
        yield from range(5)

    ds = Dataset.zip((Dataset.from_generator(gen), Dataset.range(100, 103)))
    assert [(int(p), int(q)) for p, q in ds] == [(0, 100), (1, 101), (2, 102)]


def _touch(folder, *names):
    for name in names:
        with open(os.path.join(folder, name), "w") as f:
            f.write(name + "\n")


def test_list_files_sorted_or_shuffled_reproducibly(tmp_path):
    _touch(tmp_path, "c.txt", "a.txt", "b.txt", "skip.csv")
    pattern = str(tmp_path / "*.txt")
    names = [
        os.path.basename(str(f)) for f in Dataset.list_files(pattern, shuffle=False)
    ]
    assert names == ["a.txt", "b.txt", "c.txt"]
    first = [str(f) for f in Dataset.list_files(pattern, seed=3)]
    assert sorted(os.path.basename(f) for f in first) == names
    assert first == [str(f) for f in Dataset.list_files(pattern, seed=3)]
    assert Dataset.list_files([pattern, str(tmp_path / "*.csv")]).cardinality() == 4


def test_list_files_without_a_match_names_the_pattern(tmp_path):
    with pytest.raises(ValueError, match=r"no files match.*nothing-\*"):
        Dataset.list_files(str(tmp_path / "nothing-*"))


def test_text_lines_strip_terminators_and_read_files_in_order(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"one\r\ntwo\n\nlast without newline")
    (tmp_path / "b.txt").write_bytes("caf\u00e9\n".encode())
    ds = TextLineDataset([str(tmp_path / "a.txt"), tmp_path / "b.txt"])
    lines = list(ds)
    assert lines == ["one", "two", "", "last without newline", "caf\u00e9"]
    assert all(isinstance(line, np.str_) for line in lines)
    assert ds.element_spec == TensorSpec((), "U")
    assert next(iter(ds.batch(2))).tolist() == ["one", "two"]


def test_text_lines_from_a_dataset_of_names_and_interleaved(tmp_path):
    _touch(tmp_path, "a.txt", "b.txt")
    files = Dataset.list_files(str(tmp_path / "*.txt"), shuffle=False)
    assert list(TextLineDataset(files)) == ["a.txt", "b.txt"]
    lines = files.interleave(TextLineDataset, cycle_length=2)
    assert sorted(lines) == ["a.txt", "b.txt"]


def test_text_lines_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        TextLineDataset(str(tmp_path / "missing.txt"))
