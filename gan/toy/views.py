"""What the game looks like, as numbers to draw: the data plane, D's map over it, G's pushes, G's loss surface.

Every function is pure: it takes the discriminator, samples or matrices and returns tensors; the page turns
them into Vega-Lite tables (`gan.toy.charts`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gan.i18n import _
from gan.toy.model import Discriminator, generate
from gan.toy.training import generator_loss

INSIDE = 1 - 1e-6  # G's outputs lie in (-1, 1)^N; D is not defined beyond


@dataclass(frozen=True)
class Plane:
    """A plane in the output space R^N: the point `origin` plus u·basis[:, 0] + v·basis[:, 1] (orthonormal)."""

    origin: torch.Tensor  # (N,)
    basis: torch.Tensor  # (N, 2)
    coordinates: tuple[int, int] | None  # the two output coordinates it spans, or None: principal directions

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N) points to their (B, 2) coordinates in the plane (orthogonal projection)."""
        return (x - self.origin) @ self.basis

    def lift(self, uv: torch.Tensor) -> torch.Tensor:
        """(B, 2) plane coordinates to the (B, N) points they name."""
        return self.origin + uv @ self.basis.T

    @property
    def axes(self) -> tuple[str, str]:
        """What u and v are, in the session's language, for the axis titles."""
        if self.coordinates is None:
            return _("1st principal direction"), _("2nd principal direction")
        return tuple(_("output coordinate {i}").format(i=i) for i in self.coordinates)

    @property
    def exact(self) -> bool:
        """Whether the plane is the whole output space (N = 2)."""
        return len(self.origin) == 2


def principal_plane(real: torch.Tensor) -> Plane:
    """Through the real samples' mean, along their two principal directions (signs fixed: largest entry > 0)."""
    mean = real.mean(0)
    evals, evecs = torch.linalg.eigh(torch.cov(real.T).reshape(real.shape[1], real.shape[1]))
    basis = evecs[:, [-1, -2]] if real.shape[1] > 1 else evecs
    signs = basis.gather(0, basis.abs().argmax(0, keepdim=True)).sign()
    return Plane(mean, basis * signs, None)


def coordinate_plane(real: torch.Tensor, i: int, j: int) -> Plane:
    """Output coordinates i and j; the other coordinates held at the real samples' mean."""
    N = real.shape[1]
    origin = real.mean(0).clone()
    origin[[i, j]] = 0
    basis = torch.zeros(N, 2, dtype=real.dtype)
    basis[i, 0] = basis[j, 1] = 1
    return Plane(origin, basis, (i, j))


def grid(extent: tuple[float, float, float, float], cells: int) -> tuple[torch.Tensor, float, float]:
    """The centres (cells², 2) of a cells × cells grid over (u0, u1, v0, v1), and the cell width and height."""
    u0, u1, v0, v1 = extent
    du, dv = (u1 - u0) / cells, (v1 - v0) / cells
    u = u0 + du * (torch.arange(cells) + 0.5)
    v = v0 + dv * (torch.arange(cells) + 0.5)
    return torch.cartesian_prod(u, v), du, dv


def extent(points: torch.Tensor, pad: float = 0.08, least: float = 1e-3) -> tuple[float, float, float, float]:
    """(u0, u1, v0, v1): the bounding box of (B, 2) points, widened by pad of its size (at least `least`) each side."""
    low, high = points.min(0).values, points.max(0).values
    margin = ((high - low) * pad).clamp_min(least)
    (u0, v0), (u1, v1) = (low - margin).tolist(), (high + margin).tolist()
    return u0, u1, v0, v1


@torch.no_grad()
def d_map(D: Discriminator, loss: str, plane: Plane, centres: torch.Tensor) -> torch.Tensor:
    """D's output at each (u, v) of centres (K, 2): probability of real, or D's raw score for least squares.

    NaN where the point lies outside (-1, 1)^N, which no generator reaches and D was never shown.
    """
    y = plane.lift(centres.to(plane.origin.dtype))
    out = D(y.clamp(-INSIDE, INSIDE).to(D.white.dtype))
    out = out if loss == "lsq" else torch.sigmoid(out)
    return out.masked_fill(y.abs().amax(1) >= INSIDE, float("nan"))


def g_arrows(D: Discriminator, loss: str, fake: torch.Tensor, real: torch.Tensor, plane: Plane) -> torch.Tensor:
    """Where G's loss pushes each fake sample: −∂loss_G/∂x, projected on the plane, (B, 2).

    loss_G is the batch mean of the per-sample losses, so the push on one sample is scaled by the batch
    size B: it is then −∂(that sample's loss)/∂x for bce and lsq.
    """
    x = fake.detach().clone().requires_grad_()
    (grad,) = torch.autograd.grad(generator_loss(D, loss, x, real), x)
    return -len(x) * grad @ plane.basis.to(grad.dtype)


def square_outline(A: torch.Tensor, per_edge: int = 24) -> torch.Tensor:
    """For n = 1: G_A's image of the unit square's outline, (4·per_edge + 1, 2) points, closed.

    G_A maps [0, 1]² to tanh(A [0, 1]²), a parallelogram warped by tanh: its edges are the images of the
    square's edges.
    """
    t = torch.linspace(0, 1, per_edge + 1, dtype=A.dtype)[:-1]
    zero, one = torch.zeros_like(t), torch.ones_like(t)
    edges = [torch.stack(e, 1) for e in ((t, zero), (one, t), (1 - t, one), (zero, 1 - t))]
    z = torch.cat([*edges, torch.zeros(1, 2, dtype=A.dtype)])
    with torch.no_grad():
        return generate(A, z)


@torch.no_grad()
def loss_surface(D: Discriminator, loss: str, A: torch.Tensor, entries: tuple[int, int], u: torch.Tensor,
                 v: torch.Tensor, z: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    """G's loss against D for A with its entries (flat indices) set to each (u[a], v[b]): (len(u), len(v)).

    The other two entries stay as in A; every matrix sees the same noise z (B, N), so the surface is smooth
    in A. All len(u)·len(v) generators run as one batch through kron_transform's stack of matrices.
    """
    i, j = entries
    stack = A.detach().flatten().repeat(len(u) * len(v), 1)
    stack[:, i] = u.repeat_interleave(len(v))
    stack[:, j] = v.repeat(len(u))
    fake = generate(stack.view(-1, 2, 2), z.expand(len(stack), *z.shape))
    return generator_loss(D, loss, fake, real).view(len(u), len(v))
