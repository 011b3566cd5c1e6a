"""How far apart two sample sets are, for any generator: the energy distance.

The symmetric error compares A with W's known equivalents; this compares what G_A and G_W produce, so it
falls to zero as the distributions meet, whichever equivalent A ends at. For independent X, X' ~ P and
Y, Y' ~ Q, the energy distance 2 E|X − Y| − E|X − X'| − E|Y − Y'| is zero exactly when P = Q (Székely).
It is estimated without bias from two samples (the pairs of a sample with itself left out), so it reads
about zero, give or take sampling noise, for two batches from one distribution.
"""
from __future__ import annotations

import torch


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased estimate of the energy distance between the distributions of the samples x (B, N) and y (C, N)."""
    B, C = len(x), len(y)
    within = torch.cdist(x, x).sum() / (B * (B - 1)) + torch.cdist(y, y).sum() / (C * (C - 1))
    return (2 * torch.cdist(x, y).mean() - within).item()
