import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from reprobook.data import DatasetNotFound
from reprobook.data.voc import (VOC_CLASSES, VOCSegmentation, find_voc2012, read_image_labels, read_mask,
                                resize_pair, voc_available, voc_palette)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "voc2012"
VOC = FIXTURE / "VOCdevkit" / "VOC2012"


def _fixture_script():
    spec = importlib.util.spec_from_file_location("voc_make_fixture", FIXTURE / "make_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def voc_copy(tmp_path):
    """A writable copy of the fixture, for tests that break it."""
    shutil.copytree(FIXTURE / "VOCdevkit", tmp_path / "VOCdevkit")
    return tmp_path, tmp_path / "VOCdevkit" / "VOC2012"


def _onehot(*names):
    y = torch.zeros(20)
    for n in names:
        y[VOC_CLASSES.index(n)] = 1
    return y


# ---------------------------------------------------------------------------------------------- layout
def test_fixture_script_reproduces_committed_files(tmp_path):
    voc = _fixture_script().make_fixture(tmp_path)
    committed = sorted(p.relative_to(VOC) for p in VOC.rglob("*") if p.is_file())
    assert committed == sorted(p.relative_to(voc) for p in voc.rglob("*") if p.is_file())
    for rel in committed:
        a, b = VOC / rel, voc / rel
        if rel.suffix == ".png":
            assert np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b))), rel
        elif rel.suffix == ".jpg":  # JPEG coding may differ across Pillow builds: compare decoded pixels
            diff = np.abs(np.asarray(Image.open(a), dtype=int) - np.asarray(Image.open(b), dtype=int))
            assert diff.mean() < 2, rel
        else:
            assert a.read_text() == b.read_text(), rel


def test_palette_is_the_voc_colour_map():
    p = voc_palette()
    assert len(p) == 768
    assert p[0:3] == [0, 0, 0] and p[3:6] == [128, 0, 0] and p[15 * 3:16 * 3] == [192, 128, 128]
    assert p[255 * 3:] == [224, 224, 192]
    # the committed masks really are palette PNGs carrying that map
    with Image.open(VOC / "SegmentationClass" / "2007_000001.png") as im:
        assert im.mode == "P" and im.getpalette()[:768] == p


@pytest.mark.parametrize("root", [FIXTURE, FIXTURE / "VOCdevkit", VOC])
def test_root_found_at_any_level(root):
    assert find_voc2012(root) == VOC and voc_available(root)


def test_missing_root_says_what_to_put_where(tmp_path):
    assert not voc_available(tmp_path) and not voc_available(None)
    with pytest.raises(DatasetNotFound, match="VOCdevkit/VOC2012/JPEGImages"):
        VOCSegmentation(tmp_path)
    with pytest.raises(DatasetNotFound, match="needs a data_root"):
        find_voc2012(None)


# ----------------------------------------------------------------------------------------- the loader
def test_train_split_items():
    ds = VOCSegmentation(FIXTURE, "train")
    assert len(ds) == 3 and ds.ids == ["2007_000001", "2007_000002", "2008_000003"]
    x, y, m = ds[0]
    assert x.shape == (3, 24, 32) and x.dtype == torch.float32 and 0 <= float(x.min()) <= float(x.max()) <= 1
    assert m.shape == (24, 32) and m.dtype == torch.int64
    assert torch.equal(y, _onehot("person", "dog"))
    assert set(m.unique().tolist()) == {0, 15, 12, 255}
    # exact pixels: the person box rows 2..19, columns 3..12, 255 on its outline
    assert int(m[10, 7]) == 15 and int(m[2, 7]) == 255 and int(m[10, 3]) == 255 and int(m[1, 7]) == 0
    assert int(m[16, 23]) == 12  # the dog ellipse's centre
    # the photograph shows class colours where the mask says (JPEG-coded: approximately)
    colour = torch.tensor(_fixture_script().class_colour(15), dtype=torch.float32) / 255
    assert (x[:, 10, 7] - colour).abs().max() < 0.08


def test_difficult_objects_and_parts():
    xml = VOC / "Annotations" / "2007_000002.xml"
    assert np.array_equal(read_image_labels(xml), _onehot("cat", "chair").numpy())
    assert np.array_equal(read_image_labels(xml, include_difficult=False), _onehot("cat").numpy())
    ds = VOCSegmentation(FIXTURE, "train", include_difficult=False)
    assert torch.equal(ds.image_labels()[1], _onehot("cat"))
    # "head" is a part of the person, not a class
    assert read_image_labels(VOC / "Annotations" / "2007_000001.xml").sum() == 2


def test_labels_from_masks_vs_xml():
    xml = VOCSegmentation(FIXTURE, "train")
    from_mask = VOCSegmentation(FIXTURE, "train", labels="mask")
    expected = torch.stack([_onehot("person", "dog"), _onehot("cat"), _onehot("car", "bus")])
    assert torch.equal(from_mask.image_labels(), expected)
    assert torch.equal(xml.image_labels()[1], _onehot("cat", "chair"))  # the difficult chair has no pixels
    assert torch.equal(from_mask[2][1], expected[2])


def test_val_and_augmented_split():
    val = VOCSegmentation(FIXTURE, "val")
    assert val.ids == ["2009_000004"] and torch.equal(val[0][1], _onehot("aeroplane"))
    aug = VOCSegmentation(FIXTURE, "train_aug")
    assert len(aug) == 4
    assert aug.mask_paths[0].parent.name == "SegmentationClass"  # auto: the VOC mask when there is one
    assert aug.mask_paths[3].parent.name == "SegmentationClassAug"  # the SBD-only image
    x, y, m = aug[3]
    assert torch.equal(y, _onehot("sheep")) and set(m.unique().tolist()) == {0, 17, 255}
    # the palette and greyscale versions of one mask hold the same indices
    assert np.array_equal(read_mask(VOC / "SegmentationClass" / "2007_000002.png"),
                          read_mask(VOC / "SegmentationClassAug" / "2007_000002.png"))
    with pytest.raises(DatasetNotFound, match="1 of 4 files missing from SegmentationClass "):
        VOCSegmentation(FIXTURE, "train_aug", masks="SegmentationClass")


def test_resizing():
    ds = VOCSegmentation(FIXTURE, "train", size=16)
    x, _, m = ds[2]
    assert x.shape == (3, 16, 16) and m.shape == (16, 16)
    assert set(m.unique().tolist()) <= {0, 6, 7, 255}
    ds = VOCSegmentation(FIXTURE, "train", size=16, keep_aspect=True)
    x, _, m = ds[2]  # 30 x 22 (h x w) -> 16 x 12, padded on the right
    assert x.shape == (3, 16, 16) and (m[:, 12:] == 255).all() and (x[:, :, 12:] == 0).all()
    assert (m[:, :12] != 255).any()
    # nearest-neighbour masks never invent labels; exact on an integer factor
    mask = torch.arange(16).view(4, 4).repeat_interleave(2, 0).repeat_interleave(2, 1)
    _, small = resize_pair(torch.zeros(3, 8, 8), mask, 4)
    assert torch.equal(small, torch.arange(16).view(4, 4))


def test_dataloader_batches_resized_items():
    ds = VOCSegmentation(FIXTURE, "train", size=20)
    x, y, m = next(iter(torch.utils.data.DataLoader(ds, batch_size=3)))
    assert x.shape == (3, 3, 20, 20) and y.shape == (3, 20) and m.shape == (3, 20, 20)


# -------------------------------------------------------------------------------------------- bad input
def test_mask_with_labels_outside_range(voc_copy):
    root, voc = voc_copy
    path = voc / "SegmentationClass" / "2007_000001.png"
    arr = np.asarray(Image.open(path)).copy()
    arr[0, 0] = 42
    im = Image.fromarray(arr, "P")
    im.putpalette(voc_palette())
    im.save(path)
    ds = VOCSegmentation(root, "train")
    with pytest.raises(ValueError, match=r"2007_000001.png: mask holds labels \[42\] outside 0..20"):
        ds[0]


def test_rgb_mask_is_refused(voc_copy):
    root, voc = voc_copy
    path = voc / "SegmentationClass" / "2007_000002.png"
    Image.open(path).convert("RGB").save(path)
    with pytest.raises(ValueError, match="2007_000002.png: mask must be a palette"):
        VOCSegmentation(root, "train")[1]


def test_image_and_mask_of_different_sizes(voc_copy):
    root, voc = voc_copy
    Image.new("RGB", (10, 10)).save(voc / "JPEGImages" / "2007_000001.jpg")
    with pytest.raises(ValueError, match="2007_000001.jpg is 10x10 .* but its mask .* is 32x24"):
        VOCSegmentation(root, "train")[0]


def test_empty_split(voc_copy):
    root, voc = voc_copy
    (voc / "ImageSets" / "Segmentation" / "val.txt").write_text("\n")
    with pytest.raises(ValueError, match="val.txt lists no image ids"):
        VOCSegmentation(root, "val")


def test_unknown_split_lists_known_ones():
    with pytest.raises(DatasetNotFound, match="no list for split 'test'.*found: train, train_aug, val"):
        VOCSegmentation(FIXTURE, "test")
    with pytest.raises(ValueError, match="split must be a name"):
        VOCSegmentation(FIXTURE, "../train")


@pytest.mark.parametrize("folder, name, match", [
    ("JPEGImages", "2008_000003.jpg", "1 of 3 files missing from JPEGImages .*2008_000003.jpg"),
    ("SegmentationClass", "2007_000002.png", "missing from SegmentationClass"),
    ("Annotations", "2007_000001.xml", "missing from Annotations .*2007_000001.xml"),
])
def test_missing_file_named(voc_copy, folder, name, match):
    root, voc = voc_copy
    (voc / folder / name).unlink()
    if folder == "SegmentationClass":  # auto would fall back on the Aug copy; remove it too
        (voc / "SegmentationClassAug" / name).unlink()
    with pytest.raises(DatasetNotFound, match=match):
        VOCSegmentation(root, "train")


def test_unknown_class_in_xml(voc_copy):
    root, voc = voc_copy
    path = voc / "Annotations" / "2009_000004.xml"
    path.write_text(path.read_text().replace("<name>aeroplane</name>", "<name>airplane</name>"))
    with pytest.raises(ValueError, match="2009_000004.xml: object class 'airplane' is not one of the 20"):
        VOCSegmentation(root, "val")[0]


def test_bad_options():
    with pytest.raises(ValueError, match="masks must be"):
        VOCSegmentation(FIXTURE, masks="SegmentationObject")
    with pytest.raises(ValueError, match="labels must be"):
        VOCSegmentation(FIXTURE, labels="boxes")
    with pytest.raises(ValueError, match="size must be a positive integer"):
        VOCSegmentation(FIXTURE, size=0)
