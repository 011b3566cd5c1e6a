"""Figures for the toy-GAN pages (matplotlib), labelled in the session's language."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from gan.i18n import _  # noqa: E402
from gan.toy.model import generate, kron_matrix  # noqa: E402


def basis_label(i: int, n: int) -> str:
    """e_i written as the report does, by its position in the 2 x ... x 2 tensor: e(0,1,1)."""
    return "e(" + ",".join(format(i, f"0{n}b")) + ")"


def basis_figure(A: torch.Tensor, n: int) -> Figure:
    """G_A(e_i) for every basis vector e_i as small multiples of stem plots (the report's basis plots).

    All cells share one axes (a grid of offsets), so 64 cells of 64 stems draw as fast as one.
    """
    N = 2 ** n
    outputs = generate(A, torch.eye(N))
    cols = min(N, 4 if N <= 16 else 8)
    rows = N // cols
    width, height = N + 2, 2.6  # a cell: N stems and a gap; y from -1 to 1 and room for the label
    x0 = (torch.arange(N) % cols * width).repeat_interleave(N) + torch.arange(N).repeat(N)
    y0 = (rows - 1 - torch.arange(N) // cols).repeat_interleave(N) * height
    fig, ax = plt.subplots(figsize=(1.6 * cols, 1.6 * rows + 0.2))
    ax.vlines(x0, y0, y0 + outputs.flatten(), color="tab:blue", lw=max(0.8, 24 / N))
    for i in range(N):
        left, base = i % cols * width, (rows - 1 - i // cols) * height
        ax.hlines(base, left - 0.5, left + N - 0.5, color="0.6", lw=0.5)
        ax.text(left + N / 2, base + 1.1, basis_label(i, n), ha="center", va="bottom", fontsize=7)
    ax.set_xlim(-1, cols * width - 1)
    ax.set_ylim(-1.1, rows * height - 1.1)
    ax.axis("off")
    fig.tight_layout()
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (cacheable, unlike the figure); the figure is closed."""
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=110)
    plt.close(fig)
    return out.getvalue()


def matrix_figure(A: torch.Tensor, n: int) -> Figure:
    """The N x N matrix A ⊗ ... ⊗ A as a heatmap (G never builds it)."""
    M = kron_matrix(A, n).numpy()
    bound = max(abs(M).max(), 1e-9)
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    image = ax.imshow(M, cmap="RdBu_r", vmin=-bound, vmax=bound)
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_title(f"A ⊗ … ⊗ A  ({2 ** n}×{2 ** n})", fontsize=9)
    ax.set_xlabel(_("input coordinate j"))
    ax.set_ylabel(_("output coordinate i"))
    fig.tight_layout()
    return fig


def noise_figure(z: torch.Tensor, y: torch.Tensor) -> Figure:
    """One noise vector z and G_A(z), side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 2.6), sharex=True)
    for ax, values, title, color in ((axes[0], z, "z ~ U[0, 1]^N", "0.5"), (axes[1], y, "G_A(z)", "tab:blue")):
        ax.bar(range(len(values)), values.numpy(), color=color)
        ax.axhline(0, color="0.6", lw=0.5)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(_("coordinate"))
    axes[1].set_ylim(-1.05, 1.05)
    fig.tight_layout()
    return fig


def outputs_figure(panels: list[tuple[str, torch.Tensor]], z: torch.Tensor) -> Figure:
    """The report's comparison: the same noise vectors through each named generator, one panel each."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 2.8), sharey=True)
    for ax, (title, A) in zip(axes, panels):
        ax.plot(generate(A, z).T.numpy(), marker=".", lw=1)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(_("output coordinate"))
    axes[0].set_ylabel("G(z)")
    fig.tight_layout()
    return fig

