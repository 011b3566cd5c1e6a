"""The course report's convergence experiments as a named set of `gan.train` runs over one shared base.

    python -m gan.experiments list [--json]
    python -m gan.experiments run all --out runs/exp --data ../shared/data/celeba/img_align_celeba \
        --eval-data ../shared/data/celeba-test [--budget-images 100000] [--image-size 32] [--parallel 1]
    python -m gan.experiments summarize runs/exp --to checkpoints/experiments

Every experiment changes one knob of the report (or reproduces a failure we know) against our own recipe,
the baseline. `run` trains them with one seed and scores each snapshot (gan.sweep); `summarize` writes the
compact results the Experiments page reads (gan.experiment_results).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from gan.i18n import N_

# The report's own words on each knob (cspup_celeba_report.md), quoted on the page, and in English.
REPORT = {
    "lr": "Изменение learning rate: уменьшение для дискриминатора и/или увеличение для генератора",
    "weight decay": "Добавление регуляризации (изменение параметра weight decay) для дискриминатора "
                    "и в некоторых случаях генератора",
    "sgd": "Использование оптимизатора SGD (вместо Adam) для дискриминатора",
    "g steps": "Увеличение частоты обучения генератора в X раз (где X = 2 или X = 5): на каждом шаге "
               "дискриминатор обучался 1 раз, а генератор X раз подряд",
    "tanh": "Изменение функции активации генератора на Tanh (вместо Leaky ReLU)",
    "latent": "Изменение размера скрытого пространства",
}

REPORT_EN = {
    "lr": "Changing the learning rate: lower for the discriminator and/or higher for the generator",
    "weight decay": "Adding regularisation (changing weight decay) for the discriminator and in some cases the generator",
    "sgd": "Using the SGD optimizer (instead of Adam) for the discriminator",
    "g steps": "Training the generator X times as often (X = 2 or X = 5): at each step the discriminator was "
               "trained once and the generator X times in a row",
    "tanh": "Changing the generator's activation function to Tanh (instead of Leaky ReLU)",
    "latent": "Changing the size of the latent space",
}


@dataclass(frozen=True)
class Experiment:
    name: str
    knob: str  # a key of REPORT, "baseline", "preset" or "failure"
    flags: tuple[str, ...]  # gan.train flags on top of the base
    about: str  # what it changes against the baseline, in words (shown with _(about))
    flags_64: tuple[str, ...] | None = None  # other flags at 64 px, where the 32 px base differs

    def train_flags(self, image_size: int) -> list[str]:
        """The base for this image size, then this experiment's flags (later flags win in argparse)."""
        own = self.flags_64 if image_size == 64 and self.flags_64 is not None else self.flags
        return [*BASE[image_size], *own]

    @property
    def report(self) -> str:
        return REPORT.get(self.knob, "")

    @property
    def report_en(self) -> str:
        return REPORT_EN.get(self.knob, "")


# The shared base: our recipe (BCE, Adam 2e-4 for both, beta1 0.5, EMA 0.999). At 32 px the networks are
# small enough to train 100k images in a few minutes on two CPU cores; 64 px is the shipped design.
BASE = {
    32: ("--image-size", "32", "--batch-size", "64", "--g-widths", "256", "64", "32", "16",
         "--d-widths", "32", "64", "128"),
    64: ("--image-size", "64", "--batch-size", "128"),
}

EXPERIMENTS = (
    Experiment("baseline", "baseline", (), N_("our recipe: BCE, Adam 2e-4 for G and D, beta1 0.5, EMA 0.999")),
    Experiment("report-preset", "preset", ("--preset", "report"),
               N_("the report's run: lr D 2e-4, lr G 4e-4, D weight decay 1e-4, latent 200, Tanh in G")),
    Experiment("lr-d-low", "lr", ("--lr-d", "5e-5"), N_("D learns 4x slower (lr D 5e-5)")),
    Experiment("lr-g-high", "lr", ("--lr-g", "8e-4"), N_("G learns 4x faster (lr G 8e-4)")),
    Experiment("lr-d-low-g-high", "lr", ("--lr-d", "1e-4", "--lr-g", "4e-4"), N_("lr D 1e-4 and lr G 4e-4")),
    Experiment("wd-d", "weight decay", ("--wd-d", "1e-3"), N_("weight decay 1e-3 on D")),
    Experiment("wd-g", "weight decay", ("--wd-g", "1e-3"), N_("weight decay 1e-3 on G")),
    Experiment("sgd-d", "sgd", ("--d-optim", "sgd", "--lr-d", "5e-3"), N_("D trained by SGD (momentum 0.9, lr 5e-3)")),
    Experiment("g-steps-2", "g steps", ("--g-steps", "2"), N_("G updated twice per D update")),
    Experiment("g-steps-5", "g steps", ("--g-steps", "5"), N_("G updated five times per D update")),
    Experiment("g-tanh", "tanh", ("--g-act", "tanh"), N_("Tanh instead of LeakyReLU inside G")),
    Experiment("latent-32", "latent", ("--latent", "32"), N_("a 32-d latent instead of 128")),
    Experiment("latent-256", "latent", ("--latent", "256"), N_("a 256-d latent instead of 128")),
    Experiment("hinge-sn-b256", "failure", ("--loss", "hinge", "--d-norm", "spectral", "--batch-size", "256"),
               N_("trip 1's failure: hinge loss, spectral-norm D, batch 256 (it collapsed)")),
    Experiment("small-batch", "failure", ("--batch-size", "32",),
               N_("trip 2's failure: half the batch (the lean design collapsed late at batch 64)"),
               flags_64=("--batch-size", "64")),
    Experiment("no-ema", "failure", ("--ema", "0"), N_("no moving average of G's weights: samples from the raw G")),
)
BY_NAME = {e.name: e for e in EXPERIMENTS}


def select(names: list[str]) -> list[Experiment]:
    """Experiments by name, or every one for ["all"]; ValueError names the unknown ones."""
    if names == ["all"]:
        return list(EXPERIMENTS)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown experiment(s) {', '.join(unknown)}; `python -m gan.experiments list` names them")
    return [BY_NAME[n] for n in names]


def cmd_list(args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps([{"name": e.name, "knob": e.knob, "flags": list(e.flags), "about": e.about,
                           "report": e.report, "report_en": e.report_en} for e in EXPERIMENTS], ensure_ascii=False, indent=1))
        return
    for e in EXPERIMENTS:
        print(f"{e.name:<16} {' '.join(e.flags) or '(the base)':<52} {e.about}")


def get_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="print the experiments and what each changes")
    ls.add_argument("--json", action="store_true")
    run = sub.add_parser("run", help="train and score experiments (skips finished ones, resumes cut-off ones)")
    run.add_argument("names", nargs="+", help="experiment names, or all")
    run.add_argument("--out", required=True, help="folder with one run folder per experiment")
    run.add_argument("--data", required=True, help="training images")
    run.add_argument("--eval-data", required=True, help="held-out images to score snapshots against")
    run.add_argument("--budget-images", type=int, default=100_000, help="images D sees in each experiment")
    run.add_argument("--image-size", type=int, default=32, choices=(32, 64))
    run.add_argument("--parallel", type=int, default=1, help="runs side by side (one per GPU where there are several)")
    run.add_argument("--device", default="auto", help="auto, cuda or cpu")
    run.add_argument("--eval-n", type=int, default=1000, help="images per side for FD_attr and diversity")
    run.add_argument("--classifier", default="checkpoints/attributes.pt")
    run.add_argument("--seed", type=int, default=0)
    summ = sub.add_parser("summarize", help="write the compact results the app reads")
    summ.add_argument("dir", help="the --out folder of `run`")
    summ.add_argument("--to", default="checkpoints/experiments", help="where the compact results go")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = get_args(argv)
    if args.command == "list":
        cmd_list(args)
        return 0
    from gan.checkpoint import CheckpointError
    from gan.data import DataError
    try:
        if args.command == "run":
            from gan.sweep import run_all
            return run_all(select(args.names), args)
        from gan.experiment_results import summarize
        summarize(args.dir, args.to)
        return 0
    except (ValueError, CheckpointError, DataError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
