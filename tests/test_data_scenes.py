import itertools
import math

import numpy as np
import pytest
import torch

from reprobook.data.scenes import (BACKGROUND_KINDS, SHAPE_NAMES, Scenes, _shape_members, cooccurrence_matrix,
                                   expected_cooccurrence, make_scenes)


@pytest.fixture(scope="module")
def shapes():
    return make_scenes(300, num_classes=6, size=48, objects=(1, 4), seed=5)


@pytest.fixture(scope="module")
def occluded():
    return make_scenes(300, num_classes=6, size=48, objects=(3, 5), object_size=(0.3, 0.5), occlusion=True, seed=6)


def _mask_classes(masks: torch.Tensor, c: int) -> torch.Tensor:
    """N x C: which classes appear in each mask (ignoring 0 and 255)."""
    out = torch.zeros(masks.shape[0], c)
    for k in range(1, c + 1):
        out[:, k - 1] = (masks == k).flatten(1).any(1).float()
    return out


# ------------------------------------------------------------------------------------ shapes and types
@pytest.mark.parametrize("kind, c", [("shapes", 10), ("digits", 10), ("shapes", 1)])
def test_shapes_dtypes_and_ranges(kind, c):
    s = make_scenes(40, num_classes=c, size=32, kind=kind, objects=(1, 3), object_size=(0.3, 0.5), seed=1,
                    backgrounds=["flat", "noise", "stripes"])
    assert isinstance(s, Scenes) and len(s) == 40 and s.num_classes == c
    assert s.images.shape == (40, 3, 32, 32) and s.images.dtype == torch.float32
    assert float(s.images.min()) >= 0.0 and float(s.images.max()) <= 1.0
    assert s.labels.shape == (40, c) and s.labels.dtype == torch.float32
    assert set(s.labels.unique().tolist()) <= {0.0, 1.0}
    assert (s.labels.sum(1) >= 1).all(), "every image holds at least one object"
    assert s.masks.shape == (40, 32, 32) and s.masks.dtype == torch.int64
    assert int(s.masks.min()) >= 0 and int(s.masks.max()) <= c
    assert s.instances.dtype == torch.int64 and s.instance_classes.shape == (40, 3)
    assert len(s.class_names) == c


def test_labels_agree_exactly_with_mask_classes(shapes, occluded):
    for s in (shapes, occluded):
        assert torch.equal(s.labels, _mask_classes(s.masks, s.num_classes))


def test_instances_agree_with_class_mask(shapes, occluded):
    for s in (shapes, occluded):
        fg = s.instances > 0
        assert torch.equal(fg, s.masks > 0)
        cls_of_pixel = s.instance_classes.gather(1, (s.instances.clamp(min=1) - 1).flatten(1)).view_as(s.masks)
        assert torch.equal(s.masks[fg], cls_of_pixel[fg] + 1)
        # every listed instance is visible, every empty slot is absent from the instance map
        for k in range(s.instance_classes.shape[1]):
            visible = (s.instances == k + 1).flatten(1).any(1)
            assert torch.equal(visible, s.instance_classes[:, k] >= 0)


def test_object_counts_respect_range():
    s = make_scenes(200, num_classes=5, size=48, objects=(2, 3), object_size=(0.2, 0.3), seed=2)
    n_obj = (s.instance_classes >= 0).sum(1)
    assert s.info["dropped"] == 0
    assert int(n_obj.min()) >= 2 and int(n_obj.max()) <= 3
    assert {2, 3} <= set(n_obj.tolist())


# -------------------------------------------------------------------------------------------- occlusion
def test_without_occlusion_objects_never_overlap(shapes):
    """Bounding circles are disjoint, and each instance shows its whole shape (nothing hidden)."""
    info, s = shapes.info, shapes
    size = s.images.shape[-1]
    coords = torch.arange(size, dtype=torch.float32) + 0.5
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    for i in range(60):
        ks = torch.nonzero(s.instance_classes[i] >= 0).flatten().tolist()
        for a, b in itertools.combinations(ks, 2):
            d = (info["centres"][i, a] - info["centres"][i, b]).norm()
            assert d > info["radius"][i, a] + info["radius"][i, b]
        for k in ks:  # recompute the full shape from its placement: all of it is visible
            cos, sin = math.cos(info["angle"][i, k]), math.sin(info["angle"][i, k])
            r = info["radius"][i, k]
            dx, dy = (xx - info["centres"][i, k, 0]) / r, (yy - info["centres"][i, k, 1]) / r
            full = _shape_members(SHAPE_NAMES[int(s.instance_classes[i, k])], cos * dx + sin * dy, -sin * dx + cos * dy)
            assert torch.equal(full, s.instances[i] == k + 1)


def test_occlusion_overlaps_in_depth_order(occluded):
    """With occlusion some objects are partly hidden, always by a later (front) instance, and every one
    keeps at least min_visible of its area."""
    s, info = occluded, occluded.info
    size = s.images.shape[-1]
    coords = torch.arange(size, dtype=torch.float32) + 0.5
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    hidden_somewhere = 0
    for i in range(80):
        for k in torch.nonzero(s.instance_classes[i] >= 0).flatten().tolist():
            cos, sin = math.cos(info["angle"][i, k]), math.sin(info["angle"][i, k])
            r = info["radius"][i, k]
            dx, dy = (xx - info["centres"][i, k, 0]) / r, (yy - info["centres"][i, k, 1]) / r
            full = _shape_members(SHAPE_NAMES[int(s.instance_classes[i, k])], cos * dx + sin * dy, -sin * dx + cos * dy)
            shown = s.instances[i] == k + 1
            assert not (shown & ~full).any()
            hidden = full & ~shown
            if hidden.any():
                hidden_somewhere += 1
                assert (s.instances[i][hidden] > k + 1).all(), "only objects in front may hide an object"
            assert shown.sum() >= 0.3 * full.sum()
    assert hidden_somewhere > 5


# ------------------------------------------------------------------------------------------ co-occurrence
def test_expected_cooccurrence_matches_enumeration():
    """Closed form vs exact enumeration of the anchor-companion model over all label sets (3 classes)."""
    pi = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    q = torch.tensor([[0, 0.9, 0.1], [0.4, 0, 0.5], [0.2, 0.7, 0]], dtype=torch.float64)
    joint = torch.zeros(3, 3, dtype=torch.float64)
    for a in range(3):
        others = [j for j in range(3) if j != a]
        for bits in itertools.product([0, 1], repeat=2):
            y = torch.zeros(3, dtype=torch.float64)
            y[a] = 1
            p = pi[a]
            for j, b in zip(others, bits):
                y[j] = b
                p = p * (q[a, j] if b else 1 - q[a, j])
            joint += p * torch.outer(y, y)
    torch.testing.assert_close(expected_cooccurrence(pi, q), joint)


def test_empirical_cooccurrence_follows_requested_matrix():
    """Each entry of the empirical joint matrix is a mean of n Bernoulli draws with the model's
    probability p: it must lie within 4.5 standard errors sqrt(p (1 - p) / n) (a false alarm on any of the
    15 distinct entries has probability under 1e-4). Also P(companion | anchor) ~ Q row by row."""
    c, n = 5, 3000
    q = cooccurrence_matrix(c, base=0.1, pairs={(0, 1): 0.9, (2, 3): 0.6})
    q[4, 0] = 0.0  # asymmetric: class 4 never brings class 0
    pi = [0.3, 0.1, 0.2, 0.2, 0.2]
    s = make_scenes(n, num_classes=c, size=32, objects=(1, c), object_size=(0.2, 0.3), class_probs=pi,
                    cooccurrence=q, backgrounds=["flat"], seed=11)
    assert s.info["truncated"] == 0 and s.info["dropped"] == 0 and s.info["vanished"] == 0
    expected = expected_cooccurrence(pi, q)
    emp = s.cooccurrence()
    se = (expected * (1 - expected) / n).sqrt()
    assert ((emp - expected).abs() <= 4.5 * se + 1e-12).all(), (emp - expected) / se
    # the strong pair shows in the data: P(1 | 0 present) as the model says, far above P(1 | 0 absent)
    y = s.labels.bool()
    p10 = float(expected[0, 1] / expected[0, 0])
    assert abs(float(y[y[:, 0], 1].float().mean()) - p10) < 0.03 and p10 > 0.75
    assert float(y[~y[:, 0], 1].float().mean()) < 0.3
    for a in range(c):
        rows = s.info["anchors"] == a
        for j in range(c):
            if j != a:
                p, m = float(q[a, j]), int(rows.sum())
                assert abs(float(y[rows, j].float().mean()) - p) <= 4.5 * math.sqrt(p * (1 - p) / m) + 1e-12


def test_truncation_keeps_object_budget_and_anchor():
    s = make_scenes(300, num_classes=6, size=48, objects=(1, 2), cooccurrence=0.8, seed=4)
    assert s.info["truncated"] > 0
    assert int(s.labels.sum(1).max()) <= 2
    assert s.labels[torch.arange(len(s)), s.info["anchors"]].eq(1).all()


# ---------------------------------------------------------------------------------- backgrounds, context
def test_context_class_pulls_its_background():
    s = make_scenes(200, num_classes=4, size=32, context={2: "stripes"}, seed=3)
    stripes = BACKGROUND_KINDS.index("stripes")
    assert (s.background[s.labels[:, 2] == 1] == stripes).all()
    assert (s.background[s.labels[:, 2] == 0] != stripes).any()
    assert set(s.background.tolist()) == set(range(len(BACKGROUND_KINDS)))


def test_backgrounds_subset_and_all_kinds_render():
    for kind in BACKGROUND_KINDS:
        s = make_scenes(6, num_classes=3, size=32, backgrounds=[kind], noise=0.0, seed=0)
        assert s.background_kinds == (kind,) and (s.background == 0).all()
        bg = s.images.permute(0, 2, 3, 1)[s.masks == 0]
        assert torch.isfinite(bg).all() and bg.std() > 0.01  # not blank


def test_boundary_ignore_band():
    plain = make_scenes(30, num_classes=4, size=32, seed=9)
    banded = make_scenes(30, num_classes=4, size=32, boundary_ignore=1, seed=9)
    assert torch.equal(plain.labels, banded.labels) and torch.equal(plain.images, banded.images)
    band = banded.masks == 255
    assert band.any()
    assert torch.equal(banded.masks[~band], plain.masks[~band])
    # a pixel is in the band exactly when its 3x3 neighbourhood (inside the canvas) holds two classes
    m = plain.masks
    padded = torch.nn.functional.pad(m[:, None].float(), (1, 1, 1, 1), mode="replicate")[:, 0]
    win = padded.unfold(1, 3, 1).unfold(2, 3, 1).flatten(3)
    assert torch.equal(band, win.amax(-1) != win.amin(-1))
    assert (_mask_classes(banded.masks, 4) <= banded.labels).all()


def test_color_cue_can_be_switched_off():
    a = make_scenes(200, num_classes=2, size=32, objects=(1, 1), class_colors=True, noise=0.0, object_texture=False,
                    seed=0)
    b = make_scenes(200, num_classes=2, size=32, objects=(1, 1), class_colors=False, noise=0.0,
                    object_texture=False, seed=0)

    def red_gap(s):  # mean red of class-0 objects minus class-1 objects
        red = s.images[:, 0]
        return float(red[s.masks == 1].mean() - red[s.masks == 2].mean())

    assert abs(red_gap(a)) > 0.3 and abs(red_gap(b)) < 0.1


# ------------------------------------------------------------------------------------ determinism, views
def test_deterministic_per_seed():
    kw = dict(num_classes=5, size=32, occlusion=True, objects=(1, 3), kind="digits", boundary_ignore=1)
    a, b, other = make_scenes(50, seed=7, **kw), make_scenes(50, seed=7, **kw), make_scenes(50, seed=8, **kw)
    for name in ("images", "labels", "masks", "instances", "instance_classes", "background"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert not torch.equal(a.images, other.images)


def test_chunked_generation(monkeypatch):
    """Large requests are generated in chunks (to bound memory): the result stays consistent and seeded,
    and a request that fits in one chunk is the first chunk of a longer one."""
    import reprobook.data.scenes as scenes

    kw = dict(num_classes=4, size=32, objects=(1, 3), occlusion=True, seed=2)
    single = make_scenes(20, **kw)
    monkeypatch.setattr(scenes, "_CHUNK_PIXELS", 20 * 32 * 32)  # 20 images a chunk
    chunked = make_scenes(50, **kw)
    assert len(chunked) == 50 and torch.equal(chunked.images[:20], single.images)
    assert torch.equal(chunked.masks[:20], single.masks) and torch.equal(chunked.labels[:20], single.labels)
    assert torch.equal(chunked.labels, _mask_classes(chunked.masks, 4))
    assert chunked.info["centres"].shape == (50, 3, 2) and chunked.info["anchors"].shape == (50,)
    assert torch.equal(make_scenes(50, **kw).images, chunked.images)
    assert not torch.equal(chunked.images[20:40], single.images)  # later chunks continue the random stream


def test_dataset_and_subset_views(shapes):
    ds = shapes.dataset()
    x, y = ds[3]
    assert len(ds) == len(shapes) and x.shape == (3, 48, 48) and torch.equal(y, shapes.labels[3])
    x, y, m = shapes.dataset(masks=True)[4]
    assert torch.equal(m, shapes.masks[4])
    sub = shapes.subset([1, 4])
    assert len(sub) == 2 and torch.equal(sub.masks[1], shapes.masks[4]) and sub.class_names == shapes.class_names
    assert "6 classes" in repr(shapes)
    assert torch.equal(sub.info["centres"][1], shapes.info["centres"][4])
    masks, classes = shapes.instance_masks(4)
    assert masks.shape[0] == classes.numel() == int((shapes.instance_classes[4] >= 0).sum())
    for mk, cl in zip(masks, classes):
        assert mk.any() and (shapes.masks[4][mk] == cl + 1).all()
    assert torch.equal(masks.any(0), shapes.masks[4] > 0)


def test_cooccurrence_matrix_helper():
    q = cooccurrence_matrix(3, base=0.1, pairs={(0, 2): 0.9})
    assert torch.equal(q, torch.tensor([[0, 0.1, 0.9], [0.1, 0, 0.1], [0.9, 0.1, 0]], dtype=torch.float64))
    q = cooccurrence_matrix(3, base=0.0, pairs={(0, 2): 0.9}, symmetric=False)
    assert float(q[0, 2]) == 0.9 and float(q[2, 0]) == 0.0
    with pytest.raises(ValueError, match="itself"):
        cooccurrence_matrix(3, pairs={(1, 1): 0.5})
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        cooccurrence_matrix(3, pairs={(0, 3): 0.5})


# -------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n=0), ValueError, "n must be >= 1"),
    (dict(n=2.5), TypeError, "n must be an integer"),
    (dict(kind="letters"), ValueError, "kind must be one of"),
    (dict(num_classes=11), ValueError, r"num_classes must be in \[1, 10\]"),
    (dict(size=8), ValueError, "size must be in"),
    (dict(objects=(3, 2)), ValueError, "objects must satisfy"),
    (dict(objects=3), TypeError, "objects must be a pair"),
    (dict(object_size=(0.01, 0.2)), ValueError, "under 4 px"),
    (dict(cooccurrence=np.ones((3, 3))), ValueError, "8 x 8 matrix"),
    (dict(cooccurrence=1.5), ValueError, "cooccurrence must be a probability"),
    (dict(class_probs=[1, 2]), ValueError, "class_probs must be 8 non-negative"),
    (dict(backgrounds=["lava"]), ValueError, "backgrounds must be distinct kinds"),
    (dict(backgrounds="flat"), ValueError, "non-empty list"),
    (dict(context={9: "flat"}), ValueError, "context keys must be classes"),
    (dict(backgrounds=["flat"], context={0: "photo"}), ValueError, "not one of the backgrounds"),
    (dict(occlusion="yes"), TypeError, "occlusion must be True or False"),
    (dict(min_visible=2.0), ValueError, "min_visible must be a probability"),
    (dict(boundary_ignore=-1), ValueError, "boundary_ignore must be in"),
    (dict(seed=-1), ValueError, "seed must be >= 0"),
])
def test_bad_arguments_get_clear_errors(kwargs, error, match):
    kwargs = {"n": 4, **kwargs}
    with pytest.raises(error, match=match):
        make_scenes(**kwargs)
