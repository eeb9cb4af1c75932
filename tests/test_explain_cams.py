"""The CAM engine: oracles (grad-cam package, captum), closed forms, a hand-computed MinMax example,
multi-label batching, state restoration and bad input."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from captum.attr import LayerGradCam
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM, ScoreCAM, XGradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from reprobook.explain import CamExplainer, available_methods, canonical_method, compute_cams

LIBRARY = {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "scorecam": ScoreCAM, "xgradcam": XGradCAM,
           "layercam": LayerCAM, "hirescam": HiResCAM}
TARGETS = [[0, 2], [1], [4, 3, 2]]  # several labels per image, different counts


def gap_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(3, 8, 3, padding=1), relu1=nn.ReLU(), conv2=nn.Conv2d(8, 16, 3, stride=2, padding=1),
        relu2=nn.ReLU(), conv3=nn.Conv2d(16, 12, 3, padding=1), relu3=nn.ReLU(),
        pool=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(), fc=nn.Linear(12, 5)))


def mlp_head_model(seed=1):
    """A non-linear head on the flattened map: gradients vary over positions (a stronger oracle test)."""
    torch.manual_seed(seed)
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(3, 8, 3, padding=1), relu1=nn.ReLU(), conv2=nn.Conv2d(8, 12, 3, stride=2, padding=1),
        relu2=nn.ReLU(), flat=nn.Flatten(), hidden=nn.Linear(12 * 8 * 10, 16), tanh=nn.Tanh(),
        fc=nn.Linear(16, 5)))


def images(seed=2):
    return torch.randn(3, 3, 16, 20, generator=torch.Generator().manual_seed(seed))


def library_maps(cls, model, layer, x, targets):
    """The grad-cam package's maps, one call per label slot (it explains one class per image per call)."""
    cam = cls(model=model, target_layers=[layer])
    if isinstance(cam, ScoreCAM):
        cam.batch_size = 8
    width = max(len(t) for t in targets)
    out = np.zeros((len(targets), width, *x.shape[-2:]), dtype=np.float32)
    for slot in range(width):
        chosen = [ClassifierOutputTarget(t[slot] if slot < len(t) else t[0]) for t in targets]
        maps = cam(input_tensor=x, targets=chosen)
        for i, t in enumerate(targets):
            if slot < len(t):
                out[i, slot] = maps[i]
    return out


@pytest.mark.parametrize("method", list(LIBRARY))
@pytest.mark.parametrize("build,layer", [(gap_model, "relu3"), (mlp_head_model, "relu2")])
def test_maps_equal_the_grad_cam_package(method, build, layer):
    model, x = build(), images()
    # like with like: the package's epsilons, softmax Score-CAM weights and align_corners=True masks
    explainer = CamExplainer(model, layer, score_cam_weights="softmax", score_cam_align_corners=True,
                             score_cam_chunk=7, eps={"gradcam++": 1e-6, "xgradcam": 1e-7})
    ours = explainer(x, TARGETS, method)
    ref = library_maps(LIBRARY[method], model, dict(model.named_modules())[layer], x, TARGETS)
    assert ours.maps.shape == ref.shape
    assert ours.maps.max() > 0.99  # non-trivial maps
    np.testing.assert_allclose(ours.maps.numpy(), ref, atol=1e-5)


def test_resnet18_layer4_gradcam_and_layercam_match_the_package():
    from torchvision.models import resnet18

    torch.manual_seed(3)
    model = resnet18(weights=None, num_classes=6)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    targets = [[1, 5], [0, 2]]
    explainer = CamExplainer(model, "layer4")
    res = explainer.explain(x, targets, ["gradcam", "layercam"])
    for key in ("gradcam", "layercam"):
        ref = library_maps(LIBRARY[key], model, model.layer4, x, targets)
        np.testing.assert_allclose(res[key].maps.numpy(), ref, atol=1e-5)


@pytest.mark.parametrize("build,layer", [(gap_model, "relu3"), (mlp_head_model, "relu2")])
def test_raw_gradcam_equals_captum_layer_gradcam_times_positions(build, layer):
    model, x = build(), images()
    module = dict(model.named_modules())[layer]
    ours = CamExplainer(model, layer)(x, TARGETS, "gradcam")
    h, w = ours.raw.shape[-2:]
    lgc = LayerGradCam(model, module)
    for i, labels in enumerate(TARGETS):
        for slot, c in enumerate(labels):
            ref = lgc.attribute(x[i:i + 1], target=c)[0, 0]  # mean of gradients, no ReLU
            np.testing.assert_allclose((ours.raw[i, slot] / (h * w)).numpy(), ref.detach().numpy(),
                                       atol=1e-5, rtol=1e-5)


def test_cam_is_the_closed_form_and_equals_gradcam_on_a_gap_linear_model():
    model, x = gap_model(), images()
    res = CamExplainer(model, "relu3").explain(x, TARGETS, ["cam", "gradcam"])
    with torch.no_grad():
        A = model[:6](x)  # the relu3 activations
    W = model.fc.weight.detach()
    for i, labels in enumerate(TARGETS):
        for slot, c in enumerate(labels):
            expected = torch.einsum("k,khw->hw", W[c], A[i])
            torch.testing.assert_close(res["cam"].raw[i, slot], expected, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(res["gradcam"].raw, res["cam"].raw, atol=1e-6, rtol=1e-5)


def identity_features_model(W):
    """A^k = x^k (identity 1x1 convolution), then GAP and a linear head with weights W, no bias."""
    conv = nn.Conv2d(2, 2, 1, bias=False)
    head = nn.Linear(2, W.shape[0], bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.eye(2)[:, :, None, None])
        head.weight.copy_(W)
    return nn.Sequential(OrderedDict(conv=conv, pool=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(), fc=head))


# Hand computation (W rows are classes, columns channels; the image has labels {0, 1, 2}):
#   MinMax (Eq. 21):   class 0: [2,-1] - ([0,-1] + [-1,1])/2 = [2.5, -1]
#                      class 1: [0,-1] - ([2,-1] + [-1,1])/2 = [-0.5, -1]
#                      class 2: [-1,1] - ([2,-1] + [0,-1])/2 = [-2, 2]
#   D-MinMax (Eq. 24): sum over C_x = [1, -1], so the background term is min(0, .)/3 = [0, -1/3]
#                      class 0: relu([2,-1]) - relu([-1,0])/2 + [0,-1/3] = [2, -1/3]
#                      class 1: relu([0,-1]) - relu([1,0])/2 + [0,-1/3] = [-0.5, -1/3]
#                      class 2: relu([-1,1]) - relu([2,-2])/2 + [0,-1/3] = [-1, 2/3]
#   With A^0 = [[1, 0]] and A^1 = [[0, 3]] the maps are alpha_0 * A^0 + alpha_1 * A^1.
HAND_W = torch.tensor([[2.0, -1.0], [0.0, -1.0], [-1.0, 1.0]])
HAND_X = torch.tensor([[[[1.0, 0.0]], [[0.0, 3.0]]]])
HAND_MINMAX = torch.tensor([[[2.5, -3.0]], [[-0.5, -3.0]], [[-2.0, 6.0]]])
HAND_DMINMAX = torch.tensor([[[2.0, -1.0]], [[-0.5, -1.0]], [[-1.0, 2.0]]])


@pytest.mark.parametrize("method,expected", [("minmax-cam", HAND_MINMAX), ("minmax-grad-cam", HAND_MINMAX),
                                             ("d-minmax-cam", HAND_DMINMAX), ("d-minmax-grad-cam", HAND_DMINMAX)])
def test_minmax_matches_the_hand_computed_example(method, expected):
    model = identity_features_model(HAND_W)
    res = CamExplainer(model, "conv")(HAND_X, [[0, 1, 2]], method)
    torch.testing.assert_close(res.raw[0], expected, atol=1e-6, rtol=1e-6)
    # ReLU then min-max: class 0's map keeps only the first position, class 2's only the second
    torch.testing.assert_close(res.maps[0, 0], torch.tensor([[1.0, 0.0]]))
    torch.testing.assert_close(res.maps[0, 2], torch.tensor([[0.0, 1.0]]))


def test_minmax_with_a_separate_label_set_and_single_label_reduces_to_cam():
    model = identity_features_model(HAND_W)
    explainer = CamExplainer(model, "conv")
    only_zero = explainer(HAND_X, [[0]], "minmax-cam", context=[[0, 1, 2]])
    torch.testing.assert_close(only_zero.raw[0, 0], HAND_MINMAX[0])
    single = explainer.explain(HAND_X, [[1]], ["cam", "minmax-cam", "d-minmax-cam"])
    torch.testing.assert_close(single["minmaxcam"].raw, single["cam"].raw)
    torch.testing.assert_close(single["dminmaxcam"].raw, single["cam"].raw)


def test_score_cam_paper_form_equals_a_brute_force_loop():
    model, x = gap_model(), images()
    ours = CamExplainer(model, "relu3", score_cam_chunk=5)(x, TARGETS, "scorecam")
    with torch.no_grad():
        A = model[:6](x)
        for i, labels in enumerate(TARGETS):
            weights = torch.zeros(A.shape[1], len(labels))
            for k in range(A.shape[1]):
                up = torch.nn.functional.interpolate(A[i:i + 1, k:k + 1], size=x.shape[-2:], mode="bilinear",
                                                     align_corners=False)
                mask = (up - up.min()) / (up.max() - up.min() + 1e-8)
                weights[k] = torch.sigmoid(model(x[i:i + 1] * mask))[0, labels]
            for slot in range(len(labels)):
                expected = torch.einsum("k,khw->hw", weights[:, slot], A[i])
                torch.testing.assert_close(ours.raw[i, slot], expected, atol=1e-5, rtol=1e-5)


def test_all_labels_in_one_pass_equal_one_backward_per_label_and_padding_is_zero():
    model, x = mlp_head_model(), images()
    methods = ["gradcam", "gradcam++", "layercam", "hirescam", "xgradcam", "minmaxgradcam", "dminmaxgradcam"]
    batched = CamExplainer(model, "relu2").explain(x, TARGETS, methods)
    looped = CamExplainer(model, "relu2", vectorize=False).explain(x, TARGETS, methods)
    for key in batched:
        torch.testing.assert_close(batched[key].raw, looped[key].raw, atol=1e-6, rtol=1e-5)
        assert torch.all(batched[key].maps[1, 1:] == 0) and torch.all(batched[key].maps[0, 2] == 0)
    # one image with the same class set alone gives the same map as in the batch
    alone = CamExplainer(model, "relu2")(x[2:3], [TARGETS[2]], "gradcam")
    torch.testing.assert_close(alone.raw[0], batched["gradcam"].raw[2], atol=1e-6, rtol=1e-5)
    assert batched["gradcam"].targets.tolist() == [[0, 2, -1], [1, -1, -1], [4, 3, 2]]


def test_targets_in_every_format_give_the_same_maps():
    model, x = gap_model(), images()
    explainer = CamExplainer(model, "relu3")
    lists = explainer(x, [[0, 2], [1, 3], [4, 2]], "cam").raw
    padded = explainer(x, torch.tensor([[0, 2], [1, 3], [4, 2]]), "cam").raw
    multi_hot = torch.zeros(3, 5, dtype=torch.bool)
    multi_hot[[0, 0, 1, 1, 2, 2], [0, 2, 1, 3, 2, 4]] = True
    hot = explainer(x, multi_hot, "cam")
    torch.testing.assert_close(lists, padded)
    assert hot.targets.tolist() == [[0, 2], [1, 3], [2, 4]]
    torch.testing.assert_close(hot.map_for(2, 4, normalised=False), lists[2, 0])
    one_each = explainer(x, torch.tensor([3, 1, 0]), "cam").raw
    torch.testing.assert_close(one_each, explainer(x, [[3], [1], [0]], "cam").raw)
    torch.testing.assert_close(one_each[1, 0], lists[1, 0])


def test_model_mode_and_requires_grad_are_restored_also_on_error():
    model = gap_model()
    model.train()
    model.conv1.weight.requires_grad_(False)
    model.fc.eval()
    before_modes = [m.training for m in model.modules()]
    before_flags = [p.requires_grad for p in model.parameters()]
    explainer = CamExplainer(model, "relu3")
    res = explainer.explain(images(), TARGETS, list(available_methods()))
    assert [m.training for m in model.modules()] == before_modes
    assert [p.requires_grad for p in model.parameters()] == before_flags
    assert all(r.maps.device == next(model.parameters()).device for r in res.values())
    with pytest.raises(ValueError, match="out of range"):
        explainer(images(), [[0], [7], [1]], "gradcam")
    assert [m.training for m in model.modules()] == before_modes
    assert [p.requires_grad for p in model.parameters()] == before_flags
    assert not model.relu3._forward_hooks  # the tap was removed


def test_normalised_maps_are_upsampled_and_in_unit_range():
    res = CamExplainer(gap_model(), "relu3")(images(), TARGETS, "gradcam++")
    assert res.maps.shape == (3, 3, 16, 20) and res.raw.shape == (3, 3, 8, 10)
    valid = res.valid
    assert torch.all(res.maps >= 0) and torch.all(res.maps <= 1)
    assert torch.allclose(res.maps.flatten(2).amax(-1)[valid], torch.ones(int(valid.sum())))


def test_method_names_are_canonicalised():
    assert canonical_method("Grad-CAM++") == "gradcam++"
    assert canonical_method("D-MinMax-Grad-CAM") == "dminmaxgradcam"
    assert len(available_methods()) == 11
    with pytest.raises(ValueError, match=r"unknown CAM method 'gradcam\+\+\+'; allowed: CAM, Grad-CAM"):
        canonical_method("gradcam+++")


def test_bad_input_gives_clear_errors():
    model, x = gap_model(), images()
    with pytest.raises(ValueError, match="no target layer named 'layer9'"):
        CamExplainer(model, "layer9")
    with pytest.raises(ValueError, match="did you mean 'relu3'"):
        CamExplainer(model, "relu_3")
    explainer = CamExplainer(model, "relu3")
    with pytest.raises(ValueError, match="class 5 of sample 1 is out of range: the model has 5 outputs"):
        explainer(x, [[0], [5], [1]], "cam")
    with pytest.raises(ValueError, match=r"images must have shape \(batch, channels, height, width\)"):
        explainer(x[0], [[0]], "cam")
    with pytest.raises(ValueError, match="images have 1 channels but the model's first convolution expects 3"):
        explainer(x[:, :1], TARGETS, "cam")
    with pytest.raises(ValueError, match="targets has 2 entries but the batch has 3 images"):
        explainer(x, [[0], [1]], "cam")
    with pytest.raises(TypeError, match="images must be a torch.Tensor"):
        explainer(x.numpy(), TARGETS, "cam")
    no_conv = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    with pytest.raises(ValueError, match="the model has no nn.Conv2d layer"):
        CamExplainer(no_conv)
    with pytest.raises(ValueError, match="outputs .* but CAM methods need a convolutional feature map"):
        CamExplainer(model, "flat")(x, TARGETS, "gradcam")
    with pytest.raises(ValueError, match="the head 'fc' takes 12 features but the target layer 'relu2' has 16"):
        CamExplainer(model, "relu2")(x, TARGETS, "cam")
    max_pooled = gap_model()
    max_pooled.pool = nn.AdaptiveMaxPool2d(1)
    with pytest.raises(ValueError, match=r"CAM forms need a global-average-pooling \+ linear head"):
        CamExplainer(max_pooled, "relu3")(x, TARGETS, "cam")
    with pytest.raises(ValueError, match="the model has no head named 'classifier'"):
        CamExplainer(model, "relu3", head="classifier")(x, TARGETS, "minmax-cam")


def test_compute_cams_shortcut():
    model, x = gap_model(), images()
    a = compute_cams(model, x, TARGETS, "minmax-cam", target_layer="relu3")
    b = CamExplainer(model, "relu3")(x, TARGETS, "minmaxcam")
    torch.testing.assert_close(a.raw, b.raw)
    assert a.method == "MinMax-CAM"


def test_gradient_methods_work_inside_no_grad():
    model, x = mlp_head_model(), images()
    expected = CamExplainer(model, "relu2")(x, TARGETS, "gradcam++").raw
    with torch.no_grad():
        inside = CamExplainer(model, "relu2")(x, TARGETS, "gradcam++").raw
    torch.testing.assert_close(inside, expected)
