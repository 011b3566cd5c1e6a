"""CSPup generator and DCGAN-style discriminator for 64x64 (or 128x128) faces.

Shapes: the generator maps z of shape (B, latent) to images (B, 3, S, S) in [-1, 1];
the discriminator maps images to logits of shape (B,).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass
class ModelConfig:
    """Everything needed to rebuild the networks; stored in every checkpoint."""

    latent: int = 128
    image_size: int = 64
    g_widths: tuple[int, ...] = (1024, 128, 64, 32, 16)  # 4x4, 8x8, ... up to image_size
    d_widths: tuple[int, ...] = (64, 128, 256, 512)  # 32x32, 16x16, 8x8, 4x4
    g_act: str = "leakyrelu"  # hidden activation of G: "leakyrelu" or "tanh"
    bottleneck: float = 0.25  # width of CSPup's long branch relative to its output
    d_norm: str = "batch"  # "batch", "spectral" or "none"

    def __post_init__(self) -> None:
        self.g_widths, self.d_widths = tuple(self.g_widths), tuple(self.d_widths)
        blocks = (self.image_size // 4).bit_length() - 1
        if self.image_size not in (32, 64, 128):
            raise ValueError(f"image_size must be 32, 64 or 128, got {self.image_size}")
        if len(self.g_widths) != blocks + 1:
            raise ValueError(f"g_widths needs {blocks + 1} entries for {self.image_size}px, got {len(self.g_widths)}")
        if len(self.d_widths) != blocks:
            raise ValueError(f"d_widths needs {blocks} entries for {self.image_size}px, got {len(self.d_widths)}")
        if self.latent < 1 or min(self.g_widths + self.d_widths) < 1 or not self.bottleneck > 0:
            raise ValueError(f"sizes must be positive: latent {self.latent}, g_widths {self.g_widths}, "
                             f"d_widths {self.d_widths}, bottleneck {self.bottleneck}")
        if any(w % 2 for w in self.g_widths[:-1]):
            raise ValueError(f"g_widths must be even (CSPup splits channels in halves), got {self.g_widths}")
        if self.g_act not in ACTIVATIONS:
            raise ValueError(f"g_act must be one of {sorted(ACTIVATIONS)}, got {self.g_act!r}")
        if self.d_norm not in ("batch", "spectral", "none"):
            raise ValueError(f"d_norm must be batch, spectral or none, got {self.d_norm!r}")

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


ACTIVATIONS = {"leakyrelu": lambda: nn.LeakyReLU(0.2, inplace=True), "tanh": nn.Tanh}


class CSPup(nn.Module):
    """Cross-stage-partial upsampling block: (B, c_in, H, W) -> (B, c_out, 2H, 2W).

    The input's channels are split in two halves.
    Short branch (first half):  ConvTranspose2d(4, 2, 1).
    Long branch (second half):  1x1 conv -> BN -> act -> ConvTranspose2d(4, 2, 1)
                                -> 3x3 conv -> BN -> act -> 3x3 conv.
    The long branch runs at a bottleneck width m = c_out * bottleneck (the 1x1 conv reduces to m,
    the last 3x3 conv expands to c_out), like CSPNet's and ResNet's bottlenecks: the default 0.25
    keeps the two 3x3 convs at output resolution cheap, which is what keeps CPU sampling fast.
    The branches are summed, then BatchNorm and the activation close the block.
    Convolutions followed by BatchNorm carry no bias.
    """

    def __init__(self, c_in: int, c_out: int, act: str = "leakyrelu", bottleneck: float = 0.5):
        super().__init__()
        if c_in % 2:
            raise ValueError(f"CSPup needs an even channel count, got {c_in}")
        half, m = c_in // 2, max(1, round(c_out * bottleneck))
        self.short = nn.ConvTranspose2d(half, c_out, 4, 2, 1, bias=False)
        self.long = nn.Sequential(
            nn.Conv2d(half, m, 1, bias=False), nn.BatchNorm2d(m), ACTIVATIONS[act](),
            nn.ConvTranspose2d(m, m, 4, 2, 1, bias=False),
            nn.Conv2d(m, m, 3, 1, 1, bias=False), nn.BatchNorm2d(m), ACTIVATIONS[act](),
            nn.Conv2d(m, c_out, 3, 1, 1, bias=False),
        )
        self.out = nn.Sequential(nn.BatchNorm2d(c_out), ACTIVATIONS[act]())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        return self.out(self.short(a) + self.long(b))


class Generator(nn.Module):
    """z -> linear 4x4 map -> CSPup blocks up to image_size -> 3x3 conv -> tanh."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.g_widths
        self.stem = nn.Sequential(nn.Linear(cfg.latent, w[0] * 16, bias=False))
        self.stem_norm = nn.Sequential(nn.BatchNorm2d(w[0]), ACTIVATIONS[cfg.g_act]())
        self.blocks = nn.Sequential(*[CSPup(a, b, cfg.g_act, cfg.bottleneck) for a, b in zip(w[:-1], w[1:])])
        self.head = nn.Sequential(nn.Conv2d(w[-1], 3, 3, 1, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.stem(z).view(z.shape[0], -1, 4, 4)
        return self.head(self.blocks(self.stem_norm(x)))


class Discriminator(nn.Module):
    """DCGAN discriminator: stride-2 4x4 convs halving the size down to 4x4, then a 4x4 conv to one logit."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        layers: list[nn.Module] = []
        c_prev = 3
        for i, c in enumerate(cfg.d_widths):
            conv = nn.Conv2d(c_prev, c, 4, 2, 1, bias=cfg.d_norm != "batch" or i == 0)
            layers.append(spectral_norm(conv) if cfg.d_norm == "spectral" else conv)
            if cfg.d_norm == "batch" and i > 0:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            c_prev = c
        last = nn.Conv2d(c_prev, 1, 4, 1, 0)
        layers.append(spectral_norm(last) if cfg.d_norm == "spectral" else last)
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


def default_widths(image_size: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """G: 1024 channels at 4x4, then 128 halving per block down to 16; D widths doubling up to 512 at 4x4.

    The wide 4x4 map holds most of G's parameters at almost no compute (a 128 -> 16,384 linear);
    the thin blocks keep 64 samples under 150 ms on a 2-core CPU (bench/README.md, "Lean designs").
    """
    blocks = (image_size // 4).bit_length() - 1
    return ((1024,) + tuple(max(16, 128 >> i) for i in range(blocks)),
            tuple(512 >> (blocks - 1 - i) for i in range(blocks)))


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: N(0, 0.02) for conv/linear weights, N(1, 0.02) for BatchNorm scales."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            nn.init.normal_(weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
