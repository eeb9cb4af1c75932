import pickle

import numpy as np
import pytest
import torch

from reprobook.data import DatasetNotFound, cifar10_available, load_cifar10, make_digits


# ------------------------------------------------------------------------------------------------ digits
@pytest.fixture(scope="module")
def digits():
    return make_digits(n_train=300, n_val=60, n_test=120, size=16, seed=3)


def test_digits_shapes_dtypes_and_labels(digits):
    for ds, n in ((digits.train, 300), (digits.val, 60), (digits.test, 120)):
        x, y = ds.tensors
        assert x.shape == (n, 1, 16, 16) and x.dtype == torch.float32
        assert y.shape == (n,) and y.dtype == torch.int64
        assert int(y.min()) >= 0 and int(y.max()) <= 9
        assert torch.isfinite(x).all()
    assert digits.num_classes == 10
    assert set(digits.train.tensors[1].tolist()) == set(range(10))


def test_digits_other_size():
    d = make_digits(n_train=20, n_val=10, n_test=10, size=24, seed=0)
    assert d.train.tensors[0].shape == (20, 1, 24, 24)


def test_digits_deterministic_given_seed(digits):
    again = make_digits(n_train=300, n_val=60, n_test=120, size=16, seed=3)
    other = make_digits(n_train=300, n_val=60, n_test=120, size=16, seed=4)
    for split in ("train", "val", "test"):
        a, b = getattr(digits, split).tensors, getattr(again, split).tensors
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(digits.train.tensors[0], other.train.tensors[0])


def test_digits_base_digits_disjoint_between_splits(digits):
    tr, va, te = (set(digits.info[f"{s}_bases"].tolist()) for s in ("train", "val", "test"))
    assert not tr & te and not tr & va and not va & te
    assert len(tr | va | te) == 1797
    # every image comes from a base digit of its own pool, and carries that digit's label
    from sklearn.datasets import load_digits
    target = load_digits().target
    for split, pool in (("train", tr), ("test", te)):
        src = getattr(digits, "info")[f"{split}_source"]
        assert set(src.tolist()) <= pool
        assert np.array_equal(target[src], getattr(digits, split).tensors[1].numpy())


def test_digits_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        make_digits(n_train=0)
    with pytest.raises(ValueError):
        make_digits(val_fraction=0.6, test_fraction=0.5)


# ---------------------------------------------------------------------------------------------- CIFAR-10
def _write_batch(path, n, rng, offset):
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [int((offset + i) % 10) for i in range(n)]
    with open(path, "wb") as fh:
        pickle.dump({b"batch_label": b"fixture", b"labels": labels, b"data": data,
                     b"filenames": [b"x.png"] * n}, fh)
    return data, labels


@pytest.fixture()
def cifar_root(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    written = {}
    for i in range(1, 6):
        written[f"data_batch_{i}"] = _write_batch(folder / f"data_batch_{i}", 4, rng, i)
    written["test_batch"] = _write_batch(folder / "test_batch", 3, rng, 0)
    return tmp_path, written


def test_cifar10_reads_the_real_format(cifar_root):
    root, written = cifar_root
    assert cifar10_available(root)
    d = load_cifar10(root, val_size=5, normalize=False, seed=0)
    assert len(d.train) == 15 and len(d.val) == 5 and len(d.test) == 3
    x, y = d.test.tensors
    assert x.shape == (3, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    data, labels = written["test_batch"]
    # row layout: 1024 red values, then green, then blue, each row-major 32x32
    assert torch.allclose(x[1, 0, 0, :5] * 255, torch.tensor(data[1, :5], dtype=torch.float32))
    assert torch.allclose(x[1, 2, 31, 31] * 255, torch.tensor(float(data[1, 3071])))
    assert y.tolist() == labels
    # train + val together hold all 20 training images exactly once
    all_train = torch.cat([d.train.tensors[0], d.val.tensors[0]]).flatten(1).mul(255).round().to(torch.uint8)
    expected = np.concatenate([written[f"data_batch_{i}"][0] for i in range(1, 6)])
    assert sorted(map(bytes, all_train.numpy())) == sorted(map(bytes, expected))


def test_cifar10_folder_given_directly_and_normalised(cifar_root):
    root, _ = cifar_root
    d = load_cifar10(root / "cifar-10-batches-py", val_size=0)
    assert len(d.train) == 20 and len(d.val) == 0
    assert d.train.tensors[0].min() < 0  # standardised


def test_cifar10_missing_folder_names_the_path(tmp_path):
    assert not cifar10_available(tmp_path)
    assert not cifar10_available(None)
    with pytest.raises(DatasetNotFound) as err:
        load_cifar10(tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "cifar-10-batches-py") in msg and "data_batch_1" in msg and "test_batch" in msg


def test_cifar10_missing_one_file_names_it(cifar_root):
    root, _ = cifar_root
    (root / "cifar-10-batches-py" / "data_batch_3").unlink()
    assert not cifar10_available(root)
    with pytest.raises(DatasetNotFound, match="data_batch_3"):
        load_cifar10(root)


def test_cifar10_bad_file_is_a_clear_error(cifar_root):
    root, _ = cifar_root
    with open(root / "cifar-10-batches-py" / "test_batch", "wb") as fh:
        pickle.dump({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, fh)
    with pytest.raises(ValueError, match="3072"):
        load_cifar10(root)
