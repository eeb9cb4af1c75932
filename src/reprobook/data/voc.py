"""PASCAL VOC 2012 for semantic segmentation and multi-label classification, read from a local folder.

Nothing downloads. ``data_root`` must hold the standard devkit layout (``data_root`` may also be the
``VOCdevkit`` or the ``VOC2012`` folder itself)::

    VOCdevkit/VOC2012/
        JPEGImages/<id>.jpg                    the photographs
        SegmentationClass/<id>.png             palette PNGs: index 0 = background, 1..20 = classes,
                                               255 = object boundaries and uncertain pixels (ignored)
        SegmentationClassAug/<id>.png          optional: the 10,582-image "augmented" masks (SBD, Hariharan
                                               et al. 2011) as greyscale PNGs of the same indices
        ImageSets/Segmentation/{train,val}.txt one image id per line (1,464 train and 1,449 val images)
        ImageSets/SegmentationAug/<split>.txt  optional: e.g. train_aug.txt for the augmented set
        Annotations/<id>.xml                   object annotations; their class names give the image labels

Image-level labels come from the XML annotations by default, counting every object (``difficult`` ones
too) as the WSSS literature does (AffinityNet, IRN, and MuSCLe's and P-NOC's code build their label
files that way); ``labels="mask"`` takes the classes visible in the mask instead.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from .images import DatasetNotFound

VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
               "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
               "tvmonitor")
VOC_IGNORE = 255
MASK_DIRS = ("SegmentationClass", "SegmentationClassAug")
_SPLIT_DIRS = ("ImageSets/Segmentation", "ImageSets/SegmentationAug", "ImageSets")
_LAYOUT_HELP = ("Put the PASCAL VOC 2012 devkit there (unpack VOCtrainval_11-May-2012.tar so that "
                "{root}/VOCdevkit/VOC2012/JPEGImages, SegmentationClass, Annotations and ImageSets/Segmentation "
                "exist; add SegmentationClassAug and ImageSets/SegmentationAug/train_aug.txt for the augmented "
                "set), or use data_root=None for the offline stand-in")


def voc_palette() -> list[int]:
    """The VOC colour map as a flat list of 768 RGB values (PIL's ``putpalette`` format): class ``i``'s colour
    spreads the bits of ``i`` over the high bits of R, G and B, as in the devkit's ``labelcolormap.m``."""
    palette = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


def find_voc2012(data_root: str | Path) -> Path:
    """The ``VOC2012`` folder under ``data_root`` (``data_root`` itself, ``data_root/VOC2012`` or
    ``data_root/VOCdevkit/VOC2012``), or :class:`DatasetNotFound` saying what to put where."""
    if data_root is None:
        raise DatasetNotFound("VOC 2012 needs a data_root; " + _LAYOUT_HELP.format(root="data_root"))
    root = Path(data_root).expanduser()
    for cand in (root, root / "VOC2012", root / "VOCdevkit" / "VOC2012"):
        if (cand / "JPEGImages").is_dir():
            return cand
    raise DatasetNotFound(f"PASCAL VOC 2012 not found under {root}: no VOCdevkit/VOC2012/JPEGImages folder. "
                          + _LAYOUT_HELP.format(root=root))


def voc_available(data_root: str | Path | None) -> bool:
    """Whether ``data_root`` holds a VOC 2012 devkit folder (with its ``JPEGImages``)."""
    try:
        find_voc2012(data_root)
        return True
    except DatasetNotFound:
        return False


def read_split(voc: Path, split: str) -> list[str]:
    """Image ids listed for ``split`` (``train``, ``val``, ``trainval``, ``train_aug`` ...)."""
    if not isinstance(split, str) or not split or "/" in split:
        raise ValueError(f"split must be a name such as 'train' or 'val', got {split!r}")
    for sub in _SPLIT_DIRS:
        path = voc / sub / f"{split}.txt"
        if path.is_file():
            ids = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
            if not ids:
                raise ValueError(f"split file {path} lists no image ids; it must hold one id per line")
            return ids
    known = sorted({p.stem for sub in _SPLIT_DIRS if (voc / sub).is_dir() for p in (voc / sub).glob("*.txt")})
    raise DatasetNotFound(f"no list for split {split!r} in {voc}/ImageSets/Segmentation (or SegmentationAug); "
                          f"found: {', '.join(known) or 'none'}. Each split is a text file of image ids, one a line")


def read_image_labels(xml_path: str | Path, include_difficult: bool = True) -> np.ndarray:
    """The 20-class multi-hot label vector (float32) of one VOC annotation file.

    Only ``object/name`` elements count (``part`` names such as head or hand do not); objects marked
    ``difficult`` count unless ``include_difficult=False``."""
    xml_path = Path(xml_path)
    if not xml_path.is_file():
        raise DatasetNotFound(f"annotation {xml_path} is missing; VOC 2012 keeps one XML per image in Annotations/")
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as err:
        raise ValueError(f"{xml_path} is not valid XML ({err})") from None
    y = np.zeros(len(VOC_CLASSES), dtype=np.float32)
    for obj in root.findall("object"):
        name = (obj.findtext("name") or "").strip()
        if name not in VOC_CLASSES:
            raise ValueError(f"{xml_path}: object class {name!r} is not one of the 20 VOC classes")
        if include_difficult or (obj.findtext("difficult") or "0").strip() != "1":
            y[VOC_CLASSES.index(name)] = 1.0
    return y


def read_mask(path: str | Path) -> np.ndarray:
    """Class indices of a VOC mask PNG (palette or greyscale) as int64 ``H x W``, checked to be in
    {0, ..., 20, 255}."""
    from PIL import Image

    path = Path(path)
    with Image.open(path) as im:
        if im.mode not in ("P", "L"):
            raise ValueError(f"{path}: mask must be a palette (P) or greyscale (L) PNG of class indices, "
                             f"got mode {im.mode}")
        mask = np.asarray(im, dtype=np.int64)
    bad = np.unique(mask[(mask > len(VOC_CLASSES)) & (mask != VOC_IGNORE)])
    if bad.size:
        raise ValueError(f"{path}: mask holds labels {bad[:8].tolist()} outside 0..{len(VOC_CLASSES)} "
                         f"(classes) and {VOC_IGNORE} (ignore)")
    return mask


def read_image(path: str | Path) -> np.ndarray:
    """An RGB photograph as uint8 ``H x W x 3``."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise DatasetNotFound(f"image {path} is missing; VOC 2012 keeps the photographs in JPEGImages/<id>.jpg")
    with Image.open(path) as im:
        return np.array(im.convert("RGB"))  # a writable copy, as torch.from_numpy wants


class VOCSegmentation(Dataset):
    """One split of VOC 2012: items are ``(image, labels, mask)``.

    - ``image``: float32 ``3 x H x W`` in [0, 1]; ``labels``: float32 multi-hot over :data:`VOC_CLASSES`;
      ``mask``: int64 ``H x W`` (0 = background, ``c + 1`` = class ``c``, 255 = ignore).
    - ``masks``: ``"SegmentationClass"``, ``"SegmentationClassAug"``, or ``"auto"`` (the first of the two
      that holds the image's mask, so ``train_aug`` works with both folders present).
    - ``labels``: ``"xml"`` (Annotations, ``include_difficult`` objects too by default) or ``"mask"``.
    - ``size``: resize to ``size x size`` (bilinear with antialiasing for images, nearest for masks); with
      ``keep_aspect`` the longer side becomes ``size`` and the rest is padded (image 0, mask 255). Without
      ``size`` images keep their own sizes, so batch them one at a time or with a custom collate.

    Every listed file is checked for existence when the dataset is made; contents are checked when read.
    """

    def __init__(self, data_root: str | Path, split: str = "train", *, masks: str = "auto", labels: str = "xml",
                 include_difficult: bool = True, size: int | None = None, keep_aspect: bool = False):
        if masks not in ("auto", *MASK_DIRS):
            raise ValueError(f"masks must be 'auto', 'SegmentationClass' or 'SegmentationClassAug', got {masks!r}")
        if labels not in ("xml", "mask"):
            raise ValueError(f"labels must be 'xml' (from Annotations) or 'mask', got {labels!r}")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            raise ValueError(f"size must be a positive integer or None, got {size!r}")
        self.root = find_voc2012(data_root)
        self.split, self.labels_from, self.include_difficult = split, labels, include_difficult
        self.size, self.keep_aspect = size, keep_aspect
        self.ids = read_split(self.root, split)
        self.image_paths = [self.root / "JPEGImages" / f"{i}.jpg" for i in self.ids]
        self.mask_paths = [self._mask_path(i, masks) for i in self.ids]
        self._missing("JPEGImages", [p for p in self.image_paths if not p.is_file()], "<id>.jpg photographs")
        self._missing(masks if masks != "auto" else "SegmentationClass(Aug)",
                      [p for p in self.mask_paths if not p.is_file()], "<id>.png masks")
        if labels == "xml":
            xmls = [self.root / "Annotations" / f"{i}.xml" for i in self.ids]
            self._missing("Annotations", [p for p in xmls if not p.is_file()], "<id>.xml annotations")
        self.class_names = VOC_CLASSES

    def _mask_path(self, image_id: str, masks: str) -> Path:
        dirs = MASK_DIRS if masks == "auto" else (masks,)
        for d in dirs:
            p = self.root / d / f"{image_id}.png"
            if p.is_file():
                return p
        return self.root / dirs[0] / f"{image_id}.png"

    def _missing(self, folder: str, missing: Sequence[Path], what: str) -> None:
        if missing:
            names = ", ".join(str(p) for p in missing[:3]) + (" ..." if len(missing) > 3 else "")
            raise DatasetNotFound(f"VOC 2012 split {self.split!r}: {len(missing)} of {len(self.ids)} files missing "
                                  f"from {folder} ({names}); {folder}/ must hold the {what} of every id listed")

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"VOCSegmentation({self.split}: {len(self)} images from {self.root})"

    def image_labels(self) -> torch.Tensor:
        """Multi-hot labels of every image (``N x 20``); with ``labels="xml"`` only the XML files are read."""
        if self.labels_from == "xml":
            return torch.from_numpy(np.stack([read_image_labels(self.root / "Annotations" / f"{i}.xml",
                                                                self.include_difficult) for i in self.ids]))
        return torch.stack([self._mask_labels(read_mask(p)) for p in self.mask_paths])

    @staticmethod
    def _mask_labels(mask: np.ndarray) -> torch.Tensor:
        present = np.unique(mask)
        y = torch.zeros(len(VOC_CLASSES))
        y[[int(c) - 1 for c in present if 1 <= c <= len(VOC_CLASSES)]] = 1.0
        return y

    def __getitem__(self, i: int):
        img_path, mask_path = self.image_paths[i], self.mask_paths[i]
        image = read_image(img_path)
        mask = read_mask(mask_path)
        if image.shape[:2] != mask.shape:
            raise ValueError(f"{img_path.name} is {image.shape[1]}x{image.shape[0]} (w x h) but its mask {mask_path} "
                             f"is {mask.shape[1]}x{mask.shape[0]}; a mask must have its image's size")
        if self.labels_from == "xml":
            labels = torch.from_numpy(read_image_labels(self.root / "Annotations" / f"{self.ids[i]}.xml",
                                                        self.include_difficult))
        else:
            labels = self._mask_labels(mask)
        x = torch.from_numpy(image).permute(2, 0, 1).float().div_(255.0)
        m = torch.from_numpy(mask)
        if self.size is not None:
            x, m = resize_pair(x, m, self.size, self.keep_aspect)
        return x, labels, m


def resize_pair(image: torch.Tensor, mask: torch.Tensor, size: int, keep_aspect: bool = False):
    """Resize an image (``3 x H x W``, bilinear with antialiasing) and its mask (``H x W``, nearest) to
    ``size x size``; with ``keep_aspect`` scale the longer side to ``size`` and pad the bottom and right
    (image with 0, mask with 255 so that padding is ignored)."""
    h, w = mask.shape
    if keep_aspect:
        scale = size / max(h, w)
        th, tw = max(1, round(h * scale)), max(1, round(w * scale))
    else:
        th, tw = size, size
    x = F.interpolate(image[None], size=(th, tw), mode="bilinear", align_corners=False, antialias=True)[0]
    m = F.interpolate(mask[None, None].float(), size=(th, tw), mode="nearest-exact")[0, 0].long()
    if keep_aspect:
        x = F.pad(x, (0, size - tw, 0, size - th), value=0.0)
        m = F.pad(m, (0, size - tw, 0, size - th), value=VOC_IGNORE)
    return x, m


__all__ = ["MASK_DIRS", "VOCSegmentation", "VOC_CLASSES", "VOC_IGNORE", "find_voc2012", "read_image",
           "read_image_labels", "read_mask", "read_split", "resize_pair", "voc_available", "voc_palette"]
