"""The toy GAN's two players: G_A, one 2x2 matrix A applied along every axis of the noise, and an MLP D.

    G_A(z) = tanh((A ⊗ A ⊗ ... ⊗ A) z),  z ~ U[0, 1]^N,  N = 2^n

"Real" samples are G_W(z) for a target matrix W; the discriminator tells them apart.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from gan.i18n import N_

PRESETS = {  # 2x2 matrices, row by row; random: entries U[-2, 2] by a seed. The names are shown: _(name)
    N_("the report's target W"): (0.7, 0.9, 0.1, 0.6),
    N_("the report's code"): (1.0, 0.5, 1.0, 0.5),
    N_("Hadamard"): (1.0, 1.0, 1.0, -1.0),
    N_("identity"): (1.0, 0.0, 0.0, 1.0),
    N_("random"): None,
}

ROTATE_BELOW = 4096  # batches below this, or any that autograd will differentiate, take the rotating passes


def kron_transform(A: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """(A ⊗ ... ⊗ A) z for each row of z (B, N), without building the N x N matrix.

    The batch is laid out coordinate-major, (N, B), viewed as 2 x 2 x ... x 2 x B, and A is applied along
    one axis per pass, in one of two ways:
    - rotating: A @ (2, rest) on the leading axis, then that axis is moved behind the others (a copy of
      the batch); after n passes every axis is transformed and back in place. Few operations, and a
      backward two to three times cheaper than the other way's: used for training and small batches;
    - batched: A @ x viewed (2^k, 2, rest) for axis k, no copy at all, but a backward that sums over the
      broadcast A: used for large batches without gradients (sampling), bound by memory traffic.
    A stack of matrices (..., 2, 2) transforms a stack of batches (..., B, N), one matrix each.
    """
    lead, (B, N) = A.shape[:-2], z.shape[-2:]
    x = z.mT
    if B < ROTATE_BELOW or (A.requires_grad and torch.is_grad_enabled()):
        for _ in range(N.bit_length() - 1):
            x = (A @ x.reshape(*lead, 2, -1)).view(*lead, 2, -1, B).transpose(-3, -2)
        return x.reshape(*lead, N, B).mT.contiguous()
    x, A = x.contiguous(), A.unsqueeze(-3)  # A broadcasts over the axes before the one transformed
    for k in range(N.bit_length() - 1):
        x = A @ x.view(*lead, 1 << k, 2, -1)
    return x.view(*lead, N, B).mT.contiguous()


def generate(A: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """G_A(z) = tanh((A ⊗ ... ⊗ A) z)."""
    return torch.tanh(kron_transform(A, z))


def kron_matrix(A: torch.Tensor, n: int) -> torch.Tensor:
    """The N x N matrix A ⊗ ... ⊗ A (for display): its columns are the transforms of the basis vectors."""
    return kron_transform(A, torch.eye(2 ** n, dtype=A.dtype)).T


def noise(batch: int, N: int, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(batch, N, generator=gen)


def as_matrix(entries: tuple[float, ...]) -> torch.Tensor:
    return torch.tensor(entries, dtype=torch.float32).reshape(2, 2)


def preset_entries(name: str, seed: int = 0) -> tuple[float, float, float, float]:
    """A preset's four entries; `random` draws them from U[-2, 2] by seed, to 0.05."""
    if PRESETS[name] is not None:
        return PRESETS[name]
    values = torch.rand(4, generator=torch.Generator().manual_seed(seed)) * 4 - 2
    return tuple(round(float(v) * 20) / 20 for v in values)


# ------------------------------------------------------------------------------------------ discriminator

def unsquash(y: torch.Tensor) -> torch.Tensor:
    """atanh, finite at ±1: undoes G's tanh so that D sees the uniform parallelotope M [0, 1]^N."""
    return torch.atanh(y * (1 - 1e-6))


def whitening(x: torch.Tensor, eps: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """(matrix, bias) such that x @ matrix + bias has zero mean and identity covariance (ZCA).

    eps, relative to the mean variance, keeps the flat directions of a near-singular W finite.
    """
    cov = torch.cov(x.T).reshape(x.shape[1], x.shape[1])
    floor = max(eps * cov.diagonal().mean().item(), 1e-8)
    evals, evecs = torch.linalg.eigh(cov + floor * torch.eye(len(cov)))
    matrix = evecs @ torch.diag(evals.rsqrt()) @ evecs.T
    return matrix, -x.mean(0) @ matrix


class Discriminator(nn.Module):
    """MLP N -> hidden -> hidden -> 1 logit on unsquashed, whitened input; `features` is the last hidden layer.

    The input transform is fixed from real samples, like normalising a data set: without it the
    real and fake outputs of a saturated tanh differ only in their third decimal. The layers are
    applied with F.linear: calling a module costs more than these tiny products.
    """

    def __init__(self, real: torch.Tensor, hidden: int, gen: torch.Generator):
        super().__init__()
        matrix, bias = whitening(unsquash(real))
        self.register_buffer("white", matrix)
        self.register_buffer("white_bias", bias)
        self.layers = nn.ModuleList([nn.Linear(real.shape[1], hidden), nn.Linear(hidden, hidden)])
        self.head = nn.Linear(hidden, 1)
        for p in self.parameters():  # PyTorch's default bounds, drawn from the run's own generator
            bound = 1 / math.sqrt(p.shape[-1] if p.dim() > 1 else p.shape[0])
            nn.init.uniform_(p, -bound, bound, generator=gen)

    def features(self, y: torch.Tensor) -> torch.Tensor:
        x = torch.addmm(self.white_bias, unsquash(y), self.white)
        for layer in self.layers:
            x = F.leaky_relu(F.linear(x, layer.weight, layer.bias), 0.2, inplace=True)
        return x

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return F.linear(self.features(y), self.head.weight, self.head.bias).squeeze(1)
