"""What an untrusted checkpoint may make us build: size limits, checked on the meta device before any memory is used.

A checkpoint's config says how big a network to build, and its tensors say what to put in it. A
crafted file can claim widths of 400,000 in a few MB. So every network a file describes is first
built on the meta device (shapes only, no memory, no compute), its cost is measured there and capped,
and every tensor of the file is compared with it, key by key, shape by shape. Only then is the real
network built. The limits are an order of magnitude above every shipped model (checkpoints/README.md):

    shipped networks:  <= 3.4 M parameters, <= 0.2 G multiply-adds and <= 0.13 M activations per image
    limits:               50 M parameters,      3 G multiply-adds and       1 M activations per image

At the limits, a network in float32 takes at most 200 MB, and one image through it at most 4 MB of
activations per layer. The widest layer bounds the memory of sampling (gan.sample.batch_size sizes its
passes so that no layer output exceeds 64 MB), the multiply-adds its time.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn as nn

from gan.i18n import N_, _

MAX_PARAMS = 50_000_000
MAX_MULTIPLY_ADDS = 3_000_000_000  # per image
MAX_ACTIVATION = 1_000_000  # elements of the largest layer output, per image


class LimitError(ValueError):
    """A network or tensor a file describes that is too large or does not match; the message says why."""


# What a file holds, as the messages name it (the `what` of the checks), translated where a message is made.
WHAT = {"generator": N_("generator"), "discriminator": N_("discriminator"), "classifier": N_("classifier"),
        "checkpoint": N_("checkpoint")}


def what_label(what: str) -> str:
    """`what` in the session's language ("generator" -> "генератор"); an unknown one as it is."""
    return _(WHAT[what]) if what in WHAT else what


@dataclass(frozen=True)
class Cost:
    params: int
    multiply_adds: int  # per image, through convolutions and linear layers
    activation: int  # elements of the largest layer output, per image

    def __str__(self) -> str:
        return _("{params:.2f} M parameters, {multiply_adds:.0f} M multiply-adds and {activation:.2f} M "
                 "activations per image").format(params=self.params / 1e6, multiply_adds=self.multiply_adds / 1e6,
                                                 activation=self.activation / 1e6)


def layer_multiply_adds(m: nn.Module, x: torch.Tensor, out: torch.Tensor) -> int:
    """Multiply-adds of one image through one conv or linear layer (0 for any other layer)."""
    if isinstance(m, nn.ConvTranspose2d):  # every input pixel meets the whole kernel
        return x[0].numel() * m.out_channels // m.groups * math.prod(m.kernel_size)
    if isinstance(m, nn.Conv2d):
        return out[0].numel() * m.in_channels // m.groups * math.prod(m.kernel_size)
    if isinstance(m, nn.Linear):
        return m.in_features * m.out_features
    return 0


def cost(model: nn.Module, example: torch.Tensor) -> Cost:
    """Parameters, and per-image multiply-adds and largest activation, of model on one example batch of 1.

    Works on meta-device models and inputs, where the forward pass computes shapes only.
    """
    macs, widest = 0, 0

    def count(m: nn.Module, inputs: tuple, out: torch.Tensor) -> None:
        nonlocal macs, widest
        if isinstance(out, torch.Tensor) and inputs:  # parametrizations (spectral norm) take no input
            macs += layer_multiply_adds(m, inputs[0], out)
            widest = max(widest, out[0].numel())

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    try:
        with torch.no_grad():
            model.eval()(example)
    finally:
        for h in hooks:
            h.remove()
    return Cost(sum(p.numel() for p in model.parameters()), macs, widest)


def check_cost(c: Cost, what: str) -> None:
    """LimitError if a network costs more than the limits allow."""
    if c.params > MAX_PARAMS or c.multiply_adds > MAX_MULTIPLY_ADDS or c.activation > MAX_ACTIVATION:
        raise LimitError(_("its {what} would have {cost}; the limits are {params:.0f} M parameters, "
                           "{multiply_adds:.0f} G multiply-adds and {activation:.0f} M activations per image "
                           "(gan/limits.py). Refused before building it").format(
            what=what_label(what), cost=c, params=MAX_PARAMS / 1e6, multiply_adds=MAX_MULTIPLY_ADDS / 1e9,
            activation=MAX_ACTIVATION / 1e6))


def on_meta(build: Callable[[], nn.Module], example_shape: tuple[int, ...], what: str) -> nn.Module:
    """build() on the meta device, refused (LimitError) if over the limits; the network holds no memory."""
    with torch.device("meta"):
        model = build()
    check_cost(cost(model, torch.empty(example_shape, device="meta")), what)
    return model


def check_tensors(reference: dict[str, torch.Tensor], state: object, what: str) -> None:
    """LimitError unless state has exactly reference's keys, each a finite tensor of the same shape and kind.

    Non-finite values (NaN, inf) are refused: they come from a diverged run, whose faces are blank.
    """
    if not isinstance(state, dict):
        raise LimitError(_("its {what} weights are not a dict of tensors").format(what=what_label(what)))
    missing, unexpected = sorted(set(reference) - set(state)), sorted(set(state) - set(reference))
    if missing or unexpected:
        raise LimitError(_("its {what} weights do not match its config: missing {missing}, unexpected {unexpected}")
                         .format(what=what_label(what), missing=missing[:3], unexpected=unexpected[:3]))
    for key, ref in reference.items():
        v = state[key]
        if not isinstance(v, torch.Tensor) or v.shape != ref.shape or v.is_floating_point() != ref.is_floating_point():
            got = f"{tuple(v.shape)} {v.dtype}" if isinstance(v, torch.Tensor) else type(v).__name__
            raise LimitError(_("its {what} weight {key} is {got}; its config needs {shape} {dtype}").format(
                what=what_label(what), key=repr(key), got=got, shape=tuple(ref.shape), dtype=ref.dtype))
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise LimitError(_("its {what} weight {key} holds NaN or infinite values (a diverged run?)").format(
                what=what_label(what), key=repr(key)))
