"""The toy GAN's optimizers, written out: SGD with momentum, Adam, and full-matrix Adam for G's four entries."""
from __future__ import annotations

import math

import torch

from gan.i18n import N_

D_OPTIMIZERS = ("adam", "sgd")
G_OPTIMIZERS = ("adam-full", "adam", "sgd")  # full-matrix Adam: for G's four entries
OPTIMIZER_NAMES = {"adam-full": N_("Adam, full matrix"), "adam": "Adam", "sgd": N_("SGD with momentum")}


class Optimizer:
    """SGD with momentum, Adam with betas (0.5, 0.999) as torch.optim computes them, or full-matrix Adam.

    Full-matrix Adam ("adam-full") divides Adam's momentum m by the square root of the whole second-moment
    matrix V of the gradient, not of its diagonal: full-matrix AdaGrad's preconditioner with Adam's moving
    averages, affordable for G's four entries (V is 4 x 4). With beta2 = 0.9999 and bias correction, V is
    in effect the mean of g gᵀ over the run so far. It matters when D barely sees one combination of A's
    entries, as for a nearly singular W: the gradient along it is small but steady while the others are
    noisy. Adam divides each entry by its own noise, which the noisy combinations dominate, so A crawls
    along the quiet one; V^(-1/2) measures each direction's noise apart and steps along it at the full
    learning rate.
    Written out because constructing any torch.optim optimizer imports torch._dynamo: 1.7 s on the
    course's 2-core machine, a third of the command line's time budget.
    """

    def __init__(self, kind: str, params: list[torch.Tensor], lr: float, momentum: float):
        self.kind, self.params, self.lr, self.momentum, self.t = kind, params, lr, momentum, 0
        if kind == "adam-full":
            size = sum(p.numel() for p in params)
            self.m = torch.zeros(size, dtype=torch.float64)
            self.v = torch.zeros(size, size, dtype=torch.float64)
        else:
            self.m = [torch.zeros_like(p) for p in params]
            self.v = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self, grads: tuple[torch.Tensor, ...]) -> None:
        if self.kind == "adam-full":
            self.full_matrix_step(torch.cat([g.flatten() for g in grads]).double())
            return
        self.t += 1
        if self.kind == "sgd":
            torch._foreach_mul_(self.m, self.momentum)
            torch._foreach_add_(self.m, grads)
            torch._foreach_add_(self.params, self.m, alpha=-self.lr)
        elif self.kind == "adam":
            beta1, beta2 = 0.5, 0.999
            torch._foreach_lerp_(self.m, grads, 1 - beta1)
            torch._foreach_mul_(self.v, beta2)
            torch._foreach_addcmul_(self.v, grads, grads, value=1 - beta2)
            denominator = torch._foreach_div(self.v, 1 - beta2 ** self.t)
            torch._foreach_sqrt_(denominator)
            torch._foreach_add_(denominator, 1e-8)
            torch._foreach_addcdiv_(self.params, self.m, denominator, value=-self.lr / (1 - beta1 ** self.t))

    def full_matrix_step(self, g: torch.Tensor) -> None:
        """One step along V^(-1/2) m; a non-finite g is skipped, left to the caller's divergence check."""
        if not math.isfinite(g.sum().item()):
            return
        self.t += 1
        beta1, beta2 = 0.5, 0.9999
        self.m.lerp_(g, 1 - beta1)
        self.v.mul_(beta2).addr_(g, g, alpha=1 - beta2)
        evals, evecs = torch.linalg.eigh(self.v / (1 - beta2 ** self.t))  # ascending
        # m lies in the span of the gradients so far; the floor, relative to the largest eigenvalue, keeps
        # rounding errors in the other directions from being blown up
        direction = evecs @ ((evecs.T @ self.m) * evals.clamp_min(1e-12 * evals[-1] + 1e-300).rsqrt())
        for p, d in zip(self.params, direction.split([p.numel() for p in self.params])):
            p.sub_(d.view_as(p).to(p.dtype), alpha=self.lr / (1 - beta1 ** self.t))

