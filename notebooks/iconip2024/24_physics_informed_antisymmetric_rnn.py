# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Physics-Informed Antisymmetric Recurrent Neural Networks for Solving Nonlinear Partial Differential Equations
#
# **Chapter `iconip2024-24`.** Pavodi Maniamfu, U. A. Md. Ehsan Ali, Ko Sakai and Keisuke Kameyama.
# *Physics-Informed Antisymmetric Recurrent Neural Networks for Solving Nonlinear Partial Differential
# Equations.* In: Neural Information Processing, ICONIP 2024 (31st International Conference), Lecture Notes
# in Computer Science, Springer, 2025, pp. 350–365. (Our copy of the paper prints no DOI, no volume number
# and no code link.)
#
# **The idea.** A discrete-time physics-informed network (Raissi, Perdikaris and Karniadakis, 2019) learns
# one large time step of a PDE: given the solution $u^n$ sampled at one time, a network maps a point $x$ to
# all $q$ internal stages of an implicit Runge–Kutta (IRK) method plus the solution $u^{n+1}$ one step
# later, and it is trained so that stepping each of these back with the IRK formulas reproduces the data.
# The standard choice is a wide multilayer perceptron that emits the $q + 1$ values side by side. The
# paper replaces it by a small two-layer *recurrent* network that is unrolled $q + 1$ times on the same
# input, on the view that Runge–Kutta stages are themselves a recursion. Its recurrent matrices are
# antisymmetric (minus a small damping), built from a strictly upper-triangular parameter, following
# AntisymmetricRNN (Chang et al., 2019): the eigenvalues of the recurrence then sit near the imaginary axis,
# so repeated steps neither blow up nor vanish. The claim is a more stable and more accurate solver with
# far fewer parameters (about 4.6k against 122k), tested on the Allen–Cahn and Burgers equations. The paper
# itself reports that the baseline PINN wins on Burgers with Adam alone; we test both directions.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" (CI, CPU, under 60 s) or "full" (the paper's protocol; needs a GPU, see notes)
seed = 0  # base seed; the full profile uses seed, seed+1, seed+2 (trained side by side)
device = "auto"  # "auto" picks CUDA when present
data_root = None  # unused: reference solutions are computed in the chapter
pdes: list | None = None  # subset of ["allen_cahn", "burgers"]
qs: list | None = None  # numbers of IRK stages q, each an integer in [1, 500]; the paper: 2, 4, ..., 100
epochs: int | None = None  # Adam steps (full batch); the paper: 10000
lbfgs_iters: int | None = None  # L-BFGS iterations after Adam (the "Adam and L-BFGS" tables); 0 = skip
units_ac: int | None = None  # PIARNN hidden units per layer, Allen-Cahn (the paper: 64)
units_burgers: int | None = None  # PIARNN hidden units, Burgers (Table 4: 50; the text says "same as Allen-Cahn")
eps: float | None = None  # step size epsilon of the antisymmetric residual update (not given in the paper)
gamma: float | None = None  # diffusion gamma subtracted from the diagonal (not given in the paper)
recurrent: str | None = None  # "upper" (the paper: strictly upper-triangular parameter) or "dense"
lrs_period_frac: float | None = None  # LRS: decay every this fraction of the epochs (the paper: 3500/10000)
clip_norm: float | None = None  # gradient-norm clipping for q > 16 (the paper gives no value); 0 = off
hidden_sizes: list | None = None  # Table 3 ablation on Allen-Cahn, q = 4: PIARNN widths; [] = skip
ref_modes_burgers: int | None = None  # Fourier modes of the Burgers reference solution (power of two)

# %%
import inspect
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Code, display

import reprobook as rb
from reprobook import pde

PROFILES = {
    "smoke": dict(pdes=["allen_cahn", "burgers"], qs=[4], epochs=100, lbfgs_iters=0, units_ac=64,
                  units_burgers=50, eps=0.1, gamma=0.01, recurrent="upper", lrs_period_frac=0.35,
                  clip_norm=1.0, hidden_sizes=[], ref_modes_burgers=1024, n_seeds=1),
    "full": dict(pdes=["allen_cahn", "burgers"], qs=[2, 4, 8, 16, 32, 64, 100], epochs=10000,
                 lbfgs_iters=2000, units_ac=64, units_burgers=50, eps=0.1, gamma=0.01, recurrent="upper",
                 lrs_period_frac=0.35, clip_norm=1.0, hidden_sizes=[32, 64, 128, 256],
                 ref_modes_burgers=4096, n_seeds=3),
}
run = rb.start("iconip2024-24", profile=profile, seed=seed, device=device, data_root=data_root,
               profiles=PROFILES,
               knobs=dict(pdes=pdes, qs=qs, epochs=epochs, lbfgs_iters=lbfgs_iters, units_ac=units_ac,
                          units_burgers=units_burgers, eps=eps, gamma=gamma, recurrent=recurrent,
                          lrs_period_frac=lrs_period_frac, clip_norm=clip_norm, hidden_sizes=hidden_sizes,
                          ref_modes_burgers=ref_modes_burgers))
cfg = run.cfg

PDES = ("allen_cahn", "burgers")
if not cfg.pdes or any(p not in PDES for p in cfg.pdes) or len(set(cfg.pdes)) != len(cfg.pdes):
    raise rb.ParameterError(f"pdes={cfg.pdes!r}: allowed is a non-empty subset of {list(PDES)} without repeats")
if not cfg.qs or not all(isinstance(q, int) and not isinstance(q, bool) and 1 <= q <= 500 for q in cfg.qs):
    raise rb.ParameterError(f"qs={cfg.qs!r}: allowed is a non-empty list of integers in [1, 500]")
if cfg.epochs < 1 or cfg.lbfgs_iters < 0:
    raise rb.ParameterError(f"epochs={cfg.epochs}, lbfgs_iters={cfg.lbfgs_iters}: need epochs >= 1 and lbfgs_iters >= 0")
if cfg.units_ac < 1 or cfg.units_burgers < 1:
    raise rb.ParameterError(f"units_ac={cfg.units_ac}, units_burgers={cfg.units_burgers}: must be positive integers")
if not cfg.eps > 0 or cfg.gamma < 0:
    raise rb.ParameterError(f"eps={cfg.eps}, gamma={cfg.gamma}: need eps > 0 and gamma >= 0")
if cfg.recurrent not in ("upper", "dense"):
    raise rb.ParameterError(f"recurrent={cfg.recurrent!r}: allowed are 'upper' (the paper) or 'dense'")
if not 0 < cfg.lrs_period_frac <= 1:
    raise rb.ParameterError(f"lrs_period_frac={cfg.lrs_period_frac}: must be in (0, 1]")
if cfg.clip_norm < 0:
    raise rb.ParameterError(f"clip_norm={cfg.clip_norm}: must be >= 0 (0 switches clipping off)")
if not all(isinstance(h, int) and not isinstance(h, bool) and h >= 2 for h in cfg.hidden_sizes):
    raise rb.ParameterError(f"hidden_sizes={cfg.hidden_sizes!r}: allowed is a list of integers >= 2 (or [])")
if cfg.ref_modes_burgers < 256 or cfg.ref_modes_burgers & (cfg.ref_modes_burgers - 1):
    raise rb.ParameterError(f"ref_modes_burgers={cfg.ref_modes_burgers}: must be a power of two >= 256")
QS = sorted(set(cfg.qs))
DEV = run.device
DTYPE = torch.float32
print("resolved knobs:", vars(cfg), "| device:", DEV)

# %% [markdown]
# ## The method
#
# **Discrete-time PINN.** Write the PDE as $u_t + \mathcal N[u] = 0$ on $x \in [-1, 1]$. One step of size
# $\Delta t$ of a $q$-stage implicit Runge–Kutta method with Butcher table $(a_{ij}, b_j, c_j)$ links the
# known $u^n = u(t_n, \cdot)$ to the stages $u^{n+c_j} \approx u(t_n + c_j \Delta t, \cdot)$ and to
# $u^{n+1}$. Solved for $u^n$, the IRK equations give $q + 1$ independent reconstructions of the data
# (the paper's Eq. 4):
#
# $$ u^n_i = u^{n+c_i} + \Delta t \sum_{j=1}^{q} a_{ij}\, \mathcal N[u^{n+c_j}] \ (i = 1, \dots, q), \qquad
#    u^n_{q+1} = u^{n+1} + \Delta t \sum_{j=1}^{q} b_j\, \mathcal N[u^{n+c_j}]. $$
#
# A network $x \mapsto \big(u^{n+c_1}(x), \dots, u^{n+c_q}(x), u^{n+1}(x)\big) \in \mathbb R^{q+1}$ is
# trained on $N_n$ data points $(x^{n,k}, u^{n,k})$ by the sum of squared errors (Eqs. 2–3)
#
# $$ \mathrm{SSE} = \sum_{j=1}^{q+1} \sum_{k=1}^{N_n} \big| u^n_j(x^{n,k}) - u^{n,k} \big|^2 + \mathrm{SSE}_b , $$
#
# with a boundary term: periodic for Allen–Cahn (Eq. 12: the differences of $u$ and of $u_x$ between
# $x = -1$ and $x = 1$, squared, summed over all $q + 1$ outputs) and Dirichlet for Burgers (Eq. 15: the
# squares of all $q + 1$ outputs at $x = \pm 1$). After training, $u^{n+1}$ is the prediction. We use the
# Gauss–Legendre tables (order $2q$), as Raissi et al. do.
#
# **The two PDEs** (Eqs. 10–11 and 13–14), both stepped from $t_n = 0.1$ to $t_{n+1} = 0.9$, so $\Delta t = 0.8$:
#
# - Allen–Cahn: $\mathcal N[u] = -0.0001\, u_{xx} + 5 u^3 - 5 u$, $u(0, x) = x^2 \cos \pi x$, periodic;
#   200 data points.
# - Burgers: $\mathcal N[u] = u u_x - (0.01/\pi)\, u_{xx}$, $u(0, x) = -\sin \pi x$, $u(t, \pm 1) = 0$;
#   250 data points.
#
# **The PINN baseline** is Raissi's multilayer perceptron: 4 hidden layers of 200 (Allen–Cahn) or 50
# (Burgers) tanh units and a linear layer to $q + 1$ outputs.
#
# **PIARNN** (Eqs. 7–9). Two residual recurrent layers of $N$ units are iterated for $s = 0, \dots, q$ with
# the same scalar input $x$ at every step, starting from $h^{(2)}_{-1} = 0$:
#
# $$ h^{(1)}_s = h^{(2)}_{s-1} + \epsilon \tanh\!\big(V^{(1)} x + \bar W^{(1)} h^{(2)}_{s-1} + b^{(1)}\big), \qquad
#    h^{(2)}_s = h^{(1)}_s + \epsilon \tanh\!\big(V^{(2)} x + \bar W^{(2)} h^{(1)}_s + b^{(2)}\big), $$
#
# $$ \bar W^{(l)} = W^{(l)} - W^{(l)\top} - \gamma I, \qquad W^{(l)}_{ij} = 0 \text{ for } i \ge j , $$
#
# and a linear readout $y = W_y h^{(2)}_q + b_y \in \mathbb R^{q+1}$ gives the stages and $u^{n+1}$. The
# paper keeps $W$ strictly upper triangular by multiplying its gradient with the mask
# $A_{ij} = \mathbb 1[i < j]$; we multiply the parameter by the same mask in the forward pass, which gives
# the same gradients and the same function. $W - W^\top$ has purely imaginary eigenvalues, so the linear
# part of each step, $I + \epsilon \bar W$, has eigenvalues $1 - \epsilon\gamma + i \epsilon \lambda$,
# close to the unit circle.
#
# **Derivatives.** $\mathcal N$ needs $u_x$ and $u_{xx}$ of all $q + 1$ outputs. Since both networks treat
# every point $x$ separately, we push a second-order *jet* $(h, \partial_x h, \partial_x^2 h)$ through the
# layers by the chain rule (for $a = \tanh z$: $a' = (1 - a^2) z'$, $a'' = (1 - a^2) z'' - 2 a (1 - a^2) z'^2$),
# which costs three forward passes instead of $2(q + 1)$ backward ones; the code checks it against
# autograd below. Independent seeds are trained side by side: every weight carries a leading seed axis,
# the loss is the sum of the seeds' losses, and Adam (elementwise) then updates each seed exactly as if
# it were trained alone; gradient clipping is done per seed and L-BFGS runs per seed.
#
# **Training** (Sect. 5.1, "Conditions"). Adam, full batch, learning rate 0.001, 10,000 epochs for both
# networks. The "LRS" variant of PIARNN starts at 0.1 and multiplies the rate by 0.1 every 3,500 epochs.
# The "Adam and L-BFGS" variant continues each Adam run with L-BFGS. Gradient norms are clipped for
# $q > 16$. The metric is the relative $L_2$ error of $u^{n+1}$ at $t = 0.9$ on the full test grid.

# %%
def tanh_jet(z, z1, z2):
    """tanh of a second-order jet (value, d/dx, d2/dx2), by the chain rule."""
    a = torch.tanh(z)
    s = 1 - a * a
    return a, s * z1, s * z2 - 2 * a * s * z1 * z1


def glorot(fan_in, fan_out, gen):
    return torch.randn(1, fan_in, fan_out, generator=gen, dtype=DTYPE) * math.sqrt(2.0 / (fan_in + fan_out))


class MLP:
    """Raissi's PINN: 1 -> `depth` x `width` tanh -> q + 1 outputs. Weights carry a leading seed axis."""

    def __init__(self, width, depth, n_out, gen):
        sizes = [1] + [width] * depth + [n_out]
        self.n_layers = len(sizes) - 1
        self.params = {}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.params[f"W{i}"] = glorot(a, b, gen)
            self.params[f"b{i}"] = torch.zeros(1, 1, b, dtype=DTYPE)

    def n_free(self):
        return sum(p[0].numel() for p in self.params.values())

    def jet(self, x, p):
        """x: (seeds, n, 1) -> u, u_x, u_xx, each (seeds, n, q + 1)."""
        n = x.shape[1]
        h = torch.cat([x, torch.ones_like(x), torch.zeros_like(x)], 1)  # the three jet streams, stacked
        for i in range(self.n_layers):
            z = torch.bmm(h, p[f"W{i}"])
            z0, z1, z2 = z[:, :n] + p[f"b{i}"], z[:, n:2 * n], z[:, 2 * n:]
            if i == self.n_layers - 1:
                return z0, z1, z2
            h = torch.cat(tanh_jet(z0, z1, z2), 1)


class PIARNN:
    """Two-layer antisymmetric residual RNN, unrolled `steps` times on the same x, linear readout."""

    def __init__(self, units, n_out, steps, gen, eps, gamma, recurrent="upper"):
        self.N, self.steps, self.eps, self.gamma, self.recurrent = units, steps, eps, gamma, recurrent
        self.mask = torch.triu(torch.ones(units, units, dtype=DTYPE), 1) if recurrent == "upper" \
            else torch.ones(units, units, dtype=DTYPE)
        self.params = {}
        for l in (1, 2):
            self.params[f"V{l}"] = glorot(1, units, gen)
            self.params[f"b{l}"] = torch.zeros(1, 1, units, dtype=DTYPE)
            # N(0, 1/N) entries as in AntisymmetricRNN; the mask leaves the strict upper triangle
            self.params[f"W{l}"] = torch.randn(1, units, units, generator=gen, dtype=DTYPE) / math.sqrt(units) * self.mask
        self.params["Wy"] = glorot(units, n_out, gen)
        self.params["by"] = torch.zeros(1, 1, n_out, dtype=DTYPE)

    def n_free(self):
        rec = self.N * (self.N - 1) // 2 if self.recurrent == "upper" else self.N * self.N
        return sum(p[0].numel() for k, p in self.params.items() if k not in ("W1", "W2")) + 2 * rec

    def wbar_t(self, W):
        mask = self.mask.to(W.device)
        U = W * mask
        S = U - U.transpose(1, 2) - self.gamma * torch.eye(self.N, dtype=DTYPE, device=W.device)
        return S.transpose(1, 2)  # rows: h @ Wbar^T

    def jet(self, x, p):
        E, n, _ = x.shape
        WT = {l: self.wbar_t(p[f"W{l}"]) for l in (1, 2)}
        h = torch.zeros(E, 3 * n, self.N, dtype=DTYPE, device=x.device)  # (h, h_x, h_xx) stacked
        for _ in range(self.steps):
            for l in (1, 2):
                r = torch.bmm(h, WT[l])
                pre0 = r[:, :n] + torch.bmm(x, p[f"V{l}"]) + p[f"b{l}"]
                pre1 = r[:, n:2 * n] + p[f"V{l}"]
                pre2 = r[:, 2 * n:]
                h = h + self.eps * torch.cat(tanh_jet(pre0, pre1, pre2), 1)
        z = torch.bmm(h, p["Wy"])
        return z[:, :n] + p["by"], z[:, n:2 * n], z[:, 2 * n:]


def build(kind, q, units, seeds, tag):
    """One network per seed (each from its own generator), stacked along the leading axis."""
    nets = []
    for s in seeds:
        gen = torch.Generator().manual_seed(int(s) * 100003 + tag)
        nets.append(kind(gen))
    net = nets[0]
    net.params = {k: torch.cat([m.params[k] for m in nets]).to(DEV).requires_grad_() for k in net.params}
    return net


# %% [markdown]
# The loss, one value per seed, and the three optimisation recipes. The problem-specific pieces are the
# operator $\mathcal N$ and the boundary term.

# %%
NU = 0.01 / math.pi
PROBLEM = {
    "allen_cahn": dict(n_data=200, mlp_width=200, boundary="periodic",
                       op=lambda u, ux, uxx: -1e-4 * uxx + 5 * u ** 3 - 5 * u),
    "burgers": dict(n_data=250, mlp_width=50, boundary="dirichlet",
                    op=lambda u, ux, uxx: u * ux - NU * uxx),
}
T0, T1 = 0.1, 0.9
DT = T1 - T0


def irk_weights(q):
    A, b, _ = pde.gauss_legendre_tableau(q)
    return torch.tensor(np.vstack([A, b]).T, dtype=DTYPE, device=DEV)  # (q, q + 1)


def sse(net, p, x, u0, W, name):
    """The paper's SSE_n + SSE_b for each seed: x (E, n, 1), u0 (E, n); returns (E,)."""
    E, n, _ = x.shape
    xb = torch.tensor([-1.0, 1.0], dtype=DTYPE, device=DEV).view(1, 2, 1).expand(E, 2, 1)
    U, Ux, Uxx = net.jet(torch.cat([x, xb], 1), p)
    q = W.shape[0]
    F = PROBLEM[name]["op"](U[:, :n, :q], Ux[:, :n, :q], Uxx[:, :n, :q])
    U0 = U[:, :n] + DT * torch.matmul(F, W)  # Eq. (4), all q + 1 reconstructions of u^n
    loss = ((U0 - u0[..., None]) ** 2).sum((1, 2))
    if PROBLEM[name]["boundary"] == "periodic":  # Eq. (12)
        loss = loss + ((U[:, n] - U[:, n + 1]) ** 2).sum(-1) + ((Ux[:, n] - Ux[:, n + 1]) ** 2).sum(-1)
    else:  # Eq. (15)
        loss = loss + (U[:, n:] ** 2).sum((1, 2))
    return loss


def clip_per_seed(params, max_norm):
    grads = [p.grad for p in params]
    norms = torch.sqrt(sum((g.flatten(1) ** 2).sum(1) for g in grads))  # (E,)
    scale = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale.view(-1, *[1] * (g.dim() - 1)))


def train_adam(net, x, u0, W, name, *, epochs, lr0, lrs, clip, log_every):
    params = list(net.params.values())
    opt = torch.optim.Adam(params, lr=lr0)
    period = max(1, round(cfg.lrs_period_frac * epochs))
    history = []
    for ep in range(epochs):
        if lrs:  # eta * delta^floor(p / p_bar) with eta = 0.1, delta = 0.1
            for g in opt.param_groups:
                g["lr"] = lr0 * 0.1 ** (ep // period)
        loss = sse(net, net.params, x, u0, W, name)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        if clip:
            clip_per_seed(params, cfg.clip_norm)
        opt.step()
        if ep % log_every == 0 or ep == epochs - 1:
            history.append(loss.detach().cpu().numpy().copy())
    return np.array(history)  # (checkpoints, seeds)


def train_lbfgs(net, x, u0, W, name, iters):
    """L-BFGS on each seed separately (strong-Wolfe line search), continuing from the Adam weights."""
    for e in range(x.shape[0]):
        p = {k: v[e:e + 1].detach().clone().requires_grad_() for k, v in net.params.items()}
        opt = torch.optim.LBFGS(list(p.values()), lr=1.0, max_iter=iters, history_size=50,
                                tolerance_grad=1e-9, tolerance_change=1e-12, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = sse(net, p, x[e:e + 1], u0[e:e + 1], W, name).sum()
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            for k in net.params:
                if torch.isfinite(p[k]).all():
                    net.params[k][e] = p[k][0]


@torch.no_grad()
def predict(net, x_test):
    xt = torch.tensor(x_test, dtype=DTYPE, device=DEV).view(1, -1, 1)
    E = next(iter(net.params.values())).shape[0]
    return net.jet(xt.expand(E, -1, 1).contiguous(), net.params)[0][..., -1].cpu().numpy()  # u^{n+1}


# %% [markdown]
# A check that the jets are the true derivatives: autograd's first and second derivatives of every output
# agree with the propagated ones for both networks (to float32 rounding).

# %%
_gen = torch.Generator().manual_seed(0)
_x = (torch.rand(1, 50, 1, generator=_gen, dtype=DTYPE) * 2 - 1).to(DEV).requires_grad_()
for _net in (build(lambda g: MLP(20, 3, 4, g), 3, 20, [0], 1),
             build(lambda g: PIARNN(16, 4, 4, g, 0.5, 0.01), 3, 16, [0], 2)):
    _u, _ux, _uxx = _net.jet(_x, _net.params)
    for j in range(4):
        g1 = torch.autograd.grad(_u[..., j].sum(), _x, create_graph=True)[0][..., 0]
        g2 = torch.autograd.grad(g1.sum(), _x, retain_graph=True)[0][..., 0]
        assert torch.allclose(g1, _ux[..., j], atol=1e-5) and torch.allclose(g2, _uxx[..., j], atol=1e-4)
print("jets match autograd")
display(Code(inspect.getsource(pde.gauss_legendre_tableau), language="python"))

# %% [markdown]
# ## The experiment
#
# ### Reference solutions
#
# The paper uses the data files of Raissi et al. We compute the references here with the Fourier
# pseudo-spectral ETDRK4 solver of `reprobook.pde` (unit-tested in `tests/test_pde.py`: exactness on the
# heat equation, fourth order in time, agreement with the exact Cole–Hopf Burgers solution, conservation
# of mass, energy decay and symmetry). Allen–Cahn runs on 512 periodic points with step $10^{-3}$; Burgers
# on `ref_modes_burgers` points with step $2 \times 10^{-4}$, 2/3-rule dealiasing and the initial state
# $-\sin \pi x$, which stays odd and so also satisfies the Dirichlet conditions. The test grids are 512
# (Allen–Cahn) and 256 (Burgers) equispaced points on $[-1, 1)$, like the sizes of Raissi's files. The
# Burgers reference is checked against the Cole–Hopf solution at $t = 0.9$.

# %%
t_ref = time.perf_counter()
T_GRID = np.round(np.arange(0, 101) * 0.01, 10)
x_ac = pde.grid(512)
U_ac = pde.allen_cahn(x_ac ** 2 * np.cos(np.pi * x_ac), T_GRID, dt=1e-3)
x_bg_fine = pde.grid(cfg.ref_modes_burgers)
U_bg_fine = pde.burgers(-np.sin(np.pi * x_bg_fine), T_GRID, nu=NU, dt=2e-4)
stride = cfg.ref_modes_burgers // 256
x_bg, U_bg = x_bg_fine[::stride], U_bg_fine[:, ::stride]
i0, i1 = int(round(T0 / 0.01)), int(round(T1 / 0.01))
cole_hopf = pde.burgers_cole_hopf(x_bg, T1, nu=NU)
ref_check = pde.relative_l2(U_bg[i1], cole_hopf)
run.log_timing(reference_solvers_s=time.perf_counter() - t_ref)
run.log(burgers_reference_vs_cole_hopf=ref_check)
print(f"Burgers: spectral vs Cole-Hopf at t = 0.9, relative L2 = {ref_check:.2e}")
REF = {"allen_cahn": (x_ac, U_ac), "burgers": (x_bg, U_bg)}

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for ax, (name, (xg, U)) in zip(axes, REF.items()):
    im = ax.imshow(U.T, origin="lower", aspect="auto", extent=[0, 1, -1, 1], cmap="RdBu_r")
    for t in (T0, T1):
        ax.axvline(t, color="k", lw=1, ls="--")
    ax.set(title=f"{name.replace('_', '-').title()} reference (dashed: t = 0.1 data, t = 0.9 target)",
           xlabel="t", ylabel="x")
    fig.colorbar(im, ax=ax, label="u(t, x)")
fig.tight_layout()
fig.savefig(run.figure_path("references.png"), dpi=110)
plt.show()

# %% [markdown]
# ### Training
#
# For every PDE and every $q$ we train three models on the same data points per seed: the PINN (Adam),
# PIARNN (Adam at 0.001) and PIARNN with the LRS schedule. With `lbfgs_iters > 0` each of them then
# continues with L-BFGS, which gives the "Adam and L-BFGS" columns. Each seed draws its own data points
# at $t = 0.1$ and its own initial weights. The smoke profile runs $q = 4$ for a few hundred Adam steps
# only: its numbers test the pipeline, not the paper.

# %%
METHODS = ("PINN", "PIARNN", "PIARNN (LRS)")
UNITS = {"allen_cahn": cfg.units_ac, "burgers": cfg.units_burgers}
seeds = run.seeds
log_every = max(1, cfg.epochs // 100)


def data_points(name):
    xg, U = REF[name]
    n = PROBLEM[name]["n_data"]
    idx = np.stack([np.sort(rb.runtime.seed_everything(s).choice(xg.size, n, replace=False)) for s in seeds])
    x = torch.tensor(xg[idx], dtype=DTYPE, device=DEV)[..., None]
    u0 = torch.tensor(U[i0][idx], dtype=DTYPE, device=DEV)
    return x, u0


def make_net(name, method, q, units=None):
    units = units or UNITS[name]
    if method == "PINN":
        return build(lambda g: MLP(PROBLEM[name]["mlp_width"], 4, q + 1, g), q, 0, seeds, tag=1)
    return build(lambda g: PIARNN(units, q + 1, q + 1, g, cfg.eps, cfg.gamma, cfg.recurrent), q, units, seeds,
                 tag=2 if method == "PIARNN" else 3)


errors = {}  # (pde, optimiser, method, q) -> list over seeds
histories, predictions, n_params = {}, {}, {}
t_train = time.perf_counter()
for name in cfg.pdes:
    x_tr, u_tr = data_points(name)
    xg, U = REF[name]
    for q in QS:
        W = irk_weights(q)
        for method in METHODS:
            rb.runtime.seed_everything(seeds[0])
            net = make_net(name, method, q)
            n_params[(name, method, q)] = net.n_free()
            lrs = method == "PIARNN (LRS)"
            t_fit = time.perf_counter()
            histories[(name, method, q)] = train_adam(
                net, x_tr, u_tr, W, name, epochs=cfg.epochs, lr0=0.1 if lrs else 1e-3, lrs=lrs,
                clip=cfg.clip_norm > 0 and q > 16, log_every=log_every)
            pred = predict(net, xg)
            errors[(name, "adam", method, q)] = [pde.relative_l2(pr, U[i1]) if np.isfinite(pr).all() else float("nan")
                                                 for pr in pred]
            predictions[(name, "adam", method, q)] = pred[0]
            if cfg.lbfgs_iters > 0:
                train_lbfgs(net, x_tr, u_tr, W, name, cfg.lbfgs_iters)
                pred = predict(net, xg)
                errors[(name, "adam+lbfgs", method, q)] = [
                    pde.relative_l2(pr, U[i1]) if np.isfinite(pr).all() else float("nan") for pr in pred]
                predictions[(name, "adam+lbfgs", method, q)] = pred[0]
            run.log_timing(**{f"fit_{name}_{method.replace(' ', '_').replace('(', '').replace(')', '')}_q{q}_s":
                              time.perf_counter() - t_fit})
            print(f"{name:10s} q={q:3d} {method:13s} params={n_params[(name, method, q)]:7d} "
                  + " ".join(f"{k[1]}: {np.mean(v):.3e}" for k, v in errors.items() if k[0] == name and k[2] == method and k[3] == q))
run.log_timing(training_s=time.perf_counter() - t_train)


def key(name, opt, method, q=None):
    m = method.replace(" (LRS)", "_lrs")
    return f"{name}_{opt.replace('+', '_')}_{m}" + (f"_q{q}" if q is not None else "")


for (name, opt, method, q), v in errors.items():
    run.log(**{key(name, opt, method, q): v})

# %% [markdown]
# ### Results per $q$
#
# Relative $L_2$ error of $u^{n+1}$ at $t = 0.9$ (mean over seeds), in the layout of the paper's Tables 1, 2,
# 5 and 6.

# %%
rows = []
for (name, opt, method, q), v in errors.items():
    rows.append(dict(pde=name, optimiser=opt, q=q, method=method, error=float(np.mean(v))))
table = pd.DataFrame(rows).pivot_table(index=["pde", "optimiser", "q"], columns="method", values="error")
table = table[list(METHODS)]
display(table.apply(lambda col: col.map("{:.2e}".format)))

fig, axes = plt.subplots(1, len(cfg.pdes), figsize=(5.5 * len(cfg.pdes), 3.8), squeeze=False)
for ax, name in zip(axes[0], cfg.pdes):
    for method, marker in zip(METHODS, "osd"):
        for opt, ls in (("adam", "-"), ("adam+lbfgs", ":")):
            if (name, opt, method, QS[0]) not in errors:
                continue
            m = [np.mean(errors[(name, opt, method, q)]) for q in QS]
            s = [np.std(errors[(name, opt, method, q)]) for q in QS]
            ax.errorbar(QS, m, yerr=s, marker=marker, ls=ls, capsize=3, label=f"{method}, {opt}")
    ax.set(xscale="log", yscale="log", title=f"{name.replace('_', '-').title()}: error at t = 0.9",
           xlabel="IRK stages q", ylabel="relative L2 error")
    ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(run.figure_path("error_vs_q.png"), dpi=110)
plt.show()

# %% [markdown]
# Predictions of the first seed at the largest $q$ against the reference at $t = 0.9$ (the paper's Figs. 3
# and 4), and the training losses (Fig. 2: the paper's stability argument).

# %%
qmax = QS[-1]
fig, axes = plt.subplots(2, len(cfg.pdes), figsize=(5.5 * len(cfg.pdes), 7), squeeze=False)
for col, name in enumerate(cfg.pdes):
    xg, U = REF[name]
    ax = axes[0, col]
    ax.plot(xg, U[i1], "k-", lw=2, label="reference")
    for method in METHODS:
        ax.plot(xg, predictions[(name, "adam", method, qmax)], "--", label=f"{method} (Adam)")
    ax.set(title=f"{name.replace('_', '-').title()}, q = {qmax}: u(0.9, x)", xlabel="x", ylabel="u")
    ax.legend(fontsize=7)
    ax = axes[1, col]
    for method in METHODS:
        h = histories[(name, method, qmax)]
        ax.plot(np.arange(h.shape[0]) * log_every, h.mean(1), label=method)
    ax.set(yscale="log", title=f"{name.replace('_', '-').title()}, q = {qmax}: training loss (Adam)",
           xlabel="epoch", ylabel="SSE (mean over seeds)")
    ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(run.figure_path("predictions_and_losses.png"), dpi=110)
plt.show()

# %% [markdown]
# ### Hidden size (Table 3)
#
# PIARNN on Allen–Cahn with $q = 4$ and Adam for several hidden sizes (full profile; skipped when
# `hidden_sizes` is empty).

# %%
width_errors = {}
if cfg.hidden_sizes and "allen_cahn" in cfg.pdes:
    x_tr, u_tr = data_points("allen_cahn")
    W4 = irk_weights(4)
    for units in cfg.hidden_sizes:
        rb.runtime.seed_everything(seeds[0])
        net = make_net("allen_cahn", "PIARNN", 4, units=units)
        train_adam(net, x_tr, u_tr, W4, "allen_cahn", epochs=cfg.epochs, lr0=1e-3, lrs=False, clip=False,
                   log_every=log_every)
        pred = predict(net, x_ac)
        width_errors[units] = [pde.relative_l2(pr, U_ac[i1]) if np.isfinite(pr).all() else float("nan") for pr in pred]
        n_params[("allen_cahn", f"PIARNN-{units}", 4)] = net.n_free()
        run.log(**{f"ac_width{units}_q4": width_errors[units]})
    display(pd.DataFrame({"units": list(width_errors),
                          "parameters": [n_params[("allen_cahn", f"PIARNN-{u}", 4)] for u in width_errors],
                          "error (mean)": [np.mean(v) for v in width_errors.values()]}))
else:
    print("hidden-size ablation skipped in this profile")

# %% [markdown]
# ### Parameter counts (Tables 3 and 4)
#
# Counted for $q = 4$ whatever $q$ values were trained: the PIARNN's free parameters are two input
# vectors, two biases, two strictly upper triangles ($N(N-1)/2$ each) and the readout.

# %%
def count(kind, units, q=4):
    gen = torch.Generator().manual_seed(0)
    if kind == "mlp":
        return MLP(units, 4, q + 1, gen).n_free()
    return PIARNN(units, q + 1, q + 1, gen, cfg.eps, cfg.gamma, cfg.recurrent).n_free()


counts = {"PIARNN AC (64 units)": (count("rnn", 64), 4600), "PINN AC (4x200)": (count("mlp", 200), 122000),
          "PIARNN Burgers (50 units)": (count("rnn", 50), 3000), "PINN Burgers (4x50)": (count("mlp", 50), 8000),
          "PIARNN 32 units": (count("rnn", 32), 1200), "PIARNN 128 units": (count("rnn", 128), 17400),
          "PIARNN 256 units": (count("rnn", 256), 67500)}
display(pd.DataFrame({"ours": {k: v[0] for k, v in counts.items()}, "paper": {k: v[1] for k, v in counts.items()}}))
run.log(param_counts={k: v[0] for k, v in counts.items()})

# %% [markdown]
# ## Claims
#
# The rules, fixed before the runs. Errors are compared as means over the trained $q$ values, per seed
# (paired across methods by seed), as the paper's "Mean Error" rows do, on a $\log_{10}$ scale with a tie
# band of 0.05 (ratios within a factor 1.12 decide nothing). "Most $q$" counts the $q$ values
# at which the PIARNN's median over seeds is below the PINN's and asks for at least 5 of 7 (the share
# 5/7 when fewer $q$ are trained). Stability across $q$ compares the spread over $q$ of $\log_{10}$ error,
# per seed; it needs three or more $q$ values. The L-BFGS claims need `lbfgs_iters > 0`; the hidden-size
# claim needs 32 and 64 in `hidden_sizes`. Parameter counts must lie within 5 % of the paper's rounded
# numbers.

# %%
def mean_over_q(name, opt, method):
    """log10 of the mean error over q, one value per seed."""
    return list(np.log10(np.mean([errors[(name, opt, method, q)] for q in QS], axis=0)))


def log_spread(name, opt, method):
    return list(np.std(np.log10([errors[(name, opt, method, q)] for q in QS]), axis=0))


def have(name, opt="adam"):
    return name in cfg.pdes and (name, opt, "PINN", QS[0]) in errors


TIE = 0.05  # log10 units: error ratios within a factor 1.12 count as ties
lower = dict(higher_is_better=False, tie=TIE)
ledger = rb.Ledger()

if have("allen_cahn"):
    m = {meth: mean_over_q("allen_cahn", "adam", meth) for meth in METHODS}
    ledger.claim("ac-adam-mean", "Allen–Cahn, Adam only: PIARNN's mean error over q is below the PINN's (ours: log10 of the mean)",
                 paper="mean 3.2e-01 (PIARNN) and 3.3e-01 (LRS) vs 1.0e+00 (PINN), Table 1",
                 measured=m, rule=rb.AllOf(rb.Better("PIARNN", "PINN", **lower), rb.Better("PIARNN (LRS)", "PINN", **lower)))
    med = {meth: [float(np.median(errors[("allen_cahn", "adam", meth, q)])) for q in QS] for meth in METHODS}
    share = float(np.mean([a < b for a, b in zip(med["PIARNN"], med["PINN"])]))
    ledger.claim("ac-adam-most-q", "Allen–Cahn, Adam only: PIARNN beats the PINN at most q values",
                 paper="7 of 7 q values (Table 1)", measured={"share of q where PIARNN < PINN": share},
                 rule=rb.AtLeast("share of q where PIARNN < PINN", 5 / 7))
    run.log(ac_adam_share_q_piarnn_better=share)
else:
    for cid in ("ac-adam-mean", "ac-adam-most-q"):
        ledger.claim(cid, "Allen–Cahn, Adam only: PIARNN beats the PINN", paper="Table 1",
                     rule=rb.NotTestable("allen_cahn is not in pdes"))

if have("burgers"):
    m = {meth: mean_over_q("burgers", "adam", meth) for meth in METHODS}
    ledger.claim("burgers-adam-pinn-wins", "Burgers, Adam only: the PINN's mean error is below both PIARNN variants' (ours: log10 of the mean)",
                 paper="mean 2.3e-02 (PINN) vs 5.1e-02 (PIARNN) and 6.2e-02 (LRS), Table 5",
                 measured=m, rule=rb.AllOf(rb.Better("PINN", "PIARNN", **lower), rb.Better("PINN", "PIARNN (LRS)", **lower)))
else:
    ledger.claim("burgers-adam-pinn-wins", "Burgers, Adam only: the PINN beats PIARNN", paper="Table 5",
                 rule=rb.NotTestable("burgers is not in pdes"))

for name, cid, paper_txt, ours in (
        ("allen_cahn", "ac-lbfgs-mean", "mean 7.7e-02 (PIARNN) vs 2.3e-01 (PINN), Table 2", "PIARNN"),
        ("burgers", "burgers-lbfgs-mean", "mean 3.3e-02 (PIARNN LRS) vs 4.8e-02 (PINN), Table 6", "PIARNN (LRS)")):
    text = f"{name.replace('_', '-').title()}, Adam then L-BFGS: {ours}'s mean error over q is below the PINN's (ours: log10 of the mean)"
    if have(name, "adam+lbfgs"):
        ledger.claim(cid, text, paper=paper_txt,
                     measured={ours: mean_over_q(name, "adam+lbfgs", ours), "PINN": mean_over_q(name, "adam+lbfgs", "PINN")},
                     rule=rb.Better(ours, "PINN", **lower))
    else:
        ledger.claim(cid, text, paper=paper_txt,
                     rule=rb.NotTestable("lbfgs_iters = 0 in this profile" if name in cfg.pdes else f"{name} is not in pdes"))

if have("allen_cahn") and len(QS) >= 3:
    ledger.claim("ac-stable-over-q", "Allen–Cahn, Adam only: PIARNN's error varies less across q than the PINN's",
                 paper="PIARNN 2.3e-01 to 6.6e-01 vs PINN 2.8e-01 to 1.3e+00 over q = 2..100 (Table 1)",
                 measured={"PIARNN log10 spread": log_spread("allen_cahn", "adam", "PIARNN"),
                           "PINN log10 spread": log_spread("allen_cahn", "adam", "PINN")},
                 rule=rb.Better("PIARNN log10 spread", "PINN log10 spread", **lower))
else:
    ledger.claim("ac-stable-over-q", "Allen–Cahn, Adam only: PIARNN's error varies less across q than the PINN's",
                 paper="Table 1", rule=rb.NotTestable("needs Allen–Cahn and three or more q values"))

if 32 in width_errors and 64 in width_errors:
    ledger.claim("width-32-worse", "Allen–Cahn, q = 4: 32 hidden units are worse than 64",
                 paper="7.9e-01 (32 units) vs 2.5e-01 (64 units), Table 3",
                 measured={"64 units": width_errors[64], "32 units": width_errors[32]},
                 rule=rb.Better("64 units", "32 units", **lower))
else:
    ledger.claim("width-32-worse", "Allen–Cahn, q = 4: 32 hidden units are worse than 64", paper="Table 3",
                 rule=rb.NotTestable("hidden_sizes must include 32 and 64 (full profile)"))

dev = {k: abs(v[0] / v[1] - 1) for k, v in counts.items()}
ratio = counts["PIARNN AC (64 units)"][0] / counts["PINN AC (4x200)"][0]
ledger.claim("param-counts", "The stated parameter counts follow from the architectures (within 5 %), "
             "and the Allen–Cahn PIARNN has about 3.8 % of the PINN's parameters",
             paper="4.6k vs 122k and 3k vs 8k (Table 4); 1.2k, 17.4k, 67.5k (Table 3); 3.8 % (Sect. 6.2)",
             measured={**{f"|rel. dev.| {k}": v for k, v in dev.items()}, "PIARNN/PINN ratio (AC)": ratio},
             rule=rb.AllOf(*[rb.AtLeast(f"|rel. dev.| {k}", 0.05, at_most=True) for k in dev],
                           rb.AtLeast("PIARNN/PINN ratio (AC)", 0.0375), rb.AtLeast("PIARNN/PINN ratio (AC)", 0.0385, at_most=True)))
ledger.claim("reference-data", "Our spectral Burgers reference agrees with the exact Cole–Hopf solution",
             paper="(our check; the paper uses Raissi et al.'s data files)",
             measured={"relative L2 vs Cole–Hopf": ref_check},
             rule=rb.AtLeast("relative L2 vs Cole–Hopf", 1e-6, at_most=True))
run.finish(ledger)
ledger

# %% [markdown]
# This run beside the committed smoke and full results:

# %%
rb.results.compare_with_recorded(run)

# %% [markdown]
# ## Deviations and notes
#
# - **Reference data.** We compute the solutions ourselves (Fourier spectral, ETDRK4) instead of reading
#   Raissi et al.'s files; the Burgers reference matches Cole–Hopf to about $10^{-7}$ or better (claim
#   `reference-data`) and the Allen–Cahn reference changes by about $10^{-9}$ between 512 and 2048 modes.
#   Our grids are periodic ($x = 1$ is not stored separately), and the data points are drawn without
#   replacement from the test grid per seed.
# - **Unstated settings, our choices (knobs).** $\epsilon = 0.1$ and $\gamma = 0.01$ (`eps`, `gamma`; the
#   paper says only that they are free), initial hidden state zero, $W$ entries $N(0, 1/N)$ before masking,
#   Glorot-normal input and output weights, clipping at norm 1 (`clip_norm`) for $q > 16$ on both PDEs,
#   and L-BFGS for up to 2,000 iterations with a strong-Wolfe line search (`lbfgs_iters`). None of these
#   was tuned on the test solution.
# - **Ambiguities.** The text says the recurrence runs "$q$ times" but indexes $s = 0, \dots, q$; we unroll
#   $q + 1$ steps. The readout is applied to the final state only; with a linear layer to $q + 1$ outputs
#   this reproduces the paper's parameter counts (4,613 for 64 units and $q = 4$), which rules out a
#   per-step readout. For Burgers the paper says PIARNN keeps "the same architecture" as for Allen–Cahn
#   (64 units) while Table 4 lists 50 units; we follow Table 4 (`units_burgers = 50`, set 64 for the other
#   reading). Table 4's Burgers PIARNN error (5.7e-02) appears in none of the Table 5 columns.
# - **Table 3's smallest count.** A 32-unit PIARNN has 1,285 free parameters for $q = 4$ (about 1.3k), not
#   1.2k; the other counts match, so claim `param-counts` rests on a 5 % tolerance and reports this one.
# - **The upper-triangular parameterisation restricts nothing.** Every antisymmetric matrix is $U - U^\top$
#   for exactly one strictly upper-triangular $U$, so the paper's $\bar W$ covers the same set of matrices as
#   AntisymmetricRNN's dense $W - W^\top$; the saving is in stored parameters (and Adam's state), not in
#   expressiveness. `recurrent="dense"` trains the dense version for comparison. Also, the paper writes
#   the masking as $W_h = A \odot \nabla W_h$, which reads as an assignment of the gradient to the
#   weight; we implement the evident intent (masked weights, hence masked gradients).
# - **LRS in short runs.** The decay period is a fraction of the epochs (`lrs_period_frac = 0.35`, the
#   paper's 3,500 of 10,000), so the smoke profile's short runs see the same three phases.
# - **Seeds.** The paper reports one run per setting; the full profile trains three seeds per setting and
#   the rules use the spread between seeds.
# - **The smoke profile** (one $q$, 100 Adam steps, no L-BFGS) is far from the paper's 10,000 steps; its
#   verdicts describe undertrained networks and test only that the pipeline works. The full profile is the
#   paper's protocol (7 values of $q$, 10,000 Adam steps, L-BFGS, Table 3 widths, three seeds). On one
#   CPU thread a 64-unit PIARNN step at $q = 4$ takes about 10–25 ms and the cost grows linearly in $q$
#   (the unrolled recurrence is sequential), so the full profile needs a GPU and several hours even there
#   ($q = 100$ unrolls 202 layers); shrink it with `qs`, `epochs` and `lbfgs_iters`.
#
# ## Exercises
#
# 1. Why can the PIARNN not be evaluated "stage by stage", emitting $u^{n+c_s}$ at step $s$ of the
#    recurrence, with the architecture as the paper counts it? What would change in the parameter count
#    if it did?
#
# ```{admonition} Solution
# :class: dropdown
# With one readout $W_y h_q^{(2)} + b_y \in \mathbb R^{q+1}$ from the final state, the count is
# $2(N + N + N(N-1)/2) + (q+1)(N+1)$, which gives 4,613 for $N = 64$, $q = 4$, the paper's 4.6k. A per-step
# readout would map each $h_s^{(2)}$ to one scalar with a shared $W_y \in \mathbb R^{1 \times N}$, giving
# $2(2N + N(N-1)/2) + N + 1 = 4{,}353$ for the same sizes and a count independent of $q$. The reported numbers
# fit the first reading, so the stages are not tied to the steps of the recursion: the RNN is a weight-shared
# deep residual network of depth $2(q+1)$ rather than a stage-by-stage Runge–Kutta emulator.
# ```
#
# 2. Show that the linear part of one PIARNN update, $h \mapsto h + \epsilon \bar W h$, has all eigenvalues
#    of modulus $\sqrt{(1 - \epsilon\gamma)^2 + \epsilon^2 \lambda^2}$ where $i\lambda$ runs over the
#    eigenvalues of $W - W^\top$. What does this say about $\gamma$ and long unrolls ($q = 100$)?
#
# ```{admonition} Solution
# :class: dropdown
# $W - W^\top$ is real antisymmetric, hence normal with eigenvalues $i\lambda$, $\lambda \in \mathbb R$;
# $\bar W = (W - W^\top) - \gamma I$ shares its eigenvectors with eigenvalues $i\lambda - \gamma$, so
# $I + \epsilon\bar W$ has eigenvalues $1 - \epsilon\gamma + i\epsilon\lambda$. Their modulus exceeds 1 when
# $\epsilon^2\lambda^2 > 2\epsilon\gamma - \epsilon^2\gamma^2$, i.e. for $|\lambda| > \sqrt{2\gamma/\epsilon}$
# approximately: large rotations grow slowly, small ones decay. Over $2(q+1) = 202$ steps with
# $\epsilon = 0.1$, $\gamma = 0.01$ a mode with $\lambda = 0$ shrinks by $0.999^{202} \approx 0.82$, while one
# with $\lambda = 3$ has modulus about $1.043$ per step and would grow by about $5{,}000$ over the unroll if
# the dynamics were linear. The tanh bounds each increment by $\epsilon$, so the state grows at most
# linearly, but gradients through the linearised steps can still grow: $\gamma$ would have to be of
# order $\epsilon\lambda^2/2$ to make every mode contract, at the price of damping memory.
# ```
#
# 3. The Burgers reference uses a periodic Fourier solver although the problem has Dirichlet conditions.
#    Why is this exact here, and which initial state would break it?
#
# ```{admonition} Solution
# :class: dropdown
# $u_t + u u_x = \nu u_{xx}$ is invariant under $u(x) \mapsto -u(-x)$, so an odd 2-periodic initial state
# stays odd. A 2-periodic odd function has $u(1) = u(-1) = -u(1)$, hence $u(\pm 1) = 0$ for all time: the
# periodic solution is the Dirichlet solution. `tests/test_pde.py` checks the oddness on the grid. An
# initial state that is not odd, e.g. $-\sin \pi x + 0.2$, keeps its mean (mass is conserved under periodic
# conditions) and has $u(\pm 1) \ne 0$; Dirichlet conditions then need a Chebyshev or sine-series solver.
# ```
