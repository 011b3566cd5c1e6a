"""Train a set of experiments side by side and score every snapshot: the engine of `gan.experiments run`.

Each experiment is one `python -m gan.train` process writing OUT/<name>/ (its output in train.log). All share
one seed, and their snapshots are scored on one set of latents against the same held-out images. An
experiment whose scores.json exists is finished and skipped; one with a checkpoint.pt continues with --resume.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

from gan.attributes import image_batches, load_classifier
from gan.checkpoint import load_checkpoint, load_generator
from gan.evaluate import compare, embed, real_images, uint8_batches
from gan.experiments import Experiment
from gan.sample import generate, grid, latents
from gan.train import get_args as train_args

SNAPSHOTS = "0.05,0.1,0.2,0.35,0.5,0.65,0.8,1.0"
GRID_LATENTS = 24  # the same faces in every experiment's grids (8 per row)
DIVERGED = 3  # gan.train's exit code when the losses went NaN


def parsed_flags(exp: Experiment, image_size: int) -> argparse.Namespace:
    """gan.train's view of an experiment's flags (presets applied)."""
    return train_args([*exp.train_flags(image_size), "--data", "-", "--out", "-"])


def train_command(exp: Experiment, args: argparse.Namespace, run_dir: Path, threads: int) -> list[str]:
    """A fresh run to the image budget, or --resume of a cut-off one (to this budget, which may be larger)."""
    steps = steps_for(exp, args)
    tail = ["--max-steps", str(steps), "--threads", str(threads), "--device", args.device]
    if (run_dir / "checkpoint.pt").is_file():
        return [sys.executable, "-m", "gan.train", "--resume", str(run_dir), *tail]
    return [sys.executable, "-m", "gan.train", *exp.train_flags(args.image_size), "--data", args.data,
            "--out", str(run_dir), "--seed", str(args.seed), "--snapshots", SNAPSHOTS,
            "--log-every", str(max(1, steps // 200)), "--checkpoint-minutes", "2", *tail]


def steps_for(exp: Experiment, args: argparse.Namespace) -> int:
    return math.ceil(args.budget_images / parsed_flags(exp, args.image_size).batch_size)


def trained(run_dir: Path, steps: int) -> bool:
    """Whether the run's checkpoint reached `steps` (gan.train also exits 0 when it is stopped and saves)."""
    return (run_dir / "checkpoint.pt").is_file() and load_checkpoint(run_dir / "checkpoint.pt")["step"] >= steps


def images_done(run_dir: Path) -> int:
    """Images seen so far, from the last row of losses.csv (0 before the first)."""
    path = run_dir / "losses.csv"
    if not path.is_file():
        return 0
    rows = path.read_text().splitlines()
    last = rows[-1].split(",") if len(rows) > 1 else []
    return int(last[2]) if len(last) > 2 and last[2].isdigit() else 0


def finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


class Scorer:
    """FD_attr and diversity ratio of snapshots against held-out images (embedded once), plus a grid each."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.classifier = load_classifier(args.classifier)
        real = real_images(args.eval_data, args.eval_n, args.image_size, args.seed)
        self.ref = embed(uint8_batches(real), self.classifier, None)

    def snapshot(self, path: Path, grids: Path) -> dict:
        g, ckpt = load_generator(path)
        n, seed, dim = len(self.ref["features"]), self.args.seed, g.cfg.latent
        m = compare(embed(image_batches(g, latents(n, seed, dim)), self.classifier, None), self.ref,
                    self.classifier.names)
        name = f"step_{ckpt['step']:07d}.jpg"
        grid(generate(g, latents(GRID_LATENTS, seed, dim)), nrow=8).save(grids / name, quality=90)
        return {"step": ckpt["step"], "images": ckpt.get("metrics", {}).get("images_seen"),
                "fraction": ckpt.get("fraction"), "fd_attr": finite_or_none(m["FD_attr"]),
                "diversity": finite_or_none(m["diversity_ratio"]), "grid": f"grids/{name}"}

    def run(self, run_dir: Path, exit_code: int, seconds: float) -> None:
        """Score every snapshot of a finished run and write its scores.json (which marks it finished)."""
        grids = run_dir / "grids"
        grids.mkdir(exist_ok=True)
        rows = [self.snapshot(p, grids) for p in sorted((run_dir / "snapshots").glob("g_*.pt"))]
        result = {"exit_code": exit_code, "seconds": round(seconds, 1), "eval_n": len(self.ref["features"]),
                  "eval_data": self.args.eval_data, "snapshots": rows}
        tmp = run_dir / ".scores.json.tmp"
        tmp.write_text(json.dumps(result, indent=1))
        os.replace(tmp, run_dir / "scores.json")


def launch(exp: Experiment, args: argparse.Namespace, slot: int, threads: int) -> subprocess.Popen:
    run_dir = Path(args.out) / exp.name
    run_dir.mkdir(parents=True, exist_ok=True)
    gpus = torch.cuda.device_count() if args.device in ("auto", "cuda") else 0
    (run_dir / "experiment.json").write_text(json.dumps(
        {"name": exp.name, "flags": list(exp.train_flags(args.image_size)), "budget_images": args.budget_images,
         "hardware": torch.cuda.get_device_name() if gpus else "CPU", "cores": os.cpu_count()}))
    env = dict(os.environ)
    if gpus > 1:
        env["CUDA_VISIBLE_DEVICES"] = str(slot % gpus)
    log = open(run_dir / "train.log", "a")
    return subprocess.Popen(train_command(exp, args, run_dir, threads), stdout=log, stderr=subprocess.STDOUT,
                            env=env)


def progress_line(running: dict, done: int, total: int, budget: int) -> str:
    parts = [f"{name} {images_done(d) / budget:4.0%}" for name, (_, d, _, _) in running.items()]
    return f"[{time.strftime('%H:%M:%S')}] finished {done}/{total} | " + " | ".join(parts)


def run_all(experiments: list[Experiment], args: argparse.Namespace) -> int:
    """Train and score the experiments, `args.parallel` at a time; 0 when every one finished."""
    out = Path(args.out)
    pending = [e for e in experiments if not (out / e.name / "scores.json").is_file()]
    for e in experiments:
        if e not in pending:
            print(f"{e.name}: finished before, skipped")
    scorer = Scorer(args) if pending else None
    on_gpu = args.device != "cpu" and torch.cuda.is_available()
    threads = 0 if on_gpu else max(1, (os.cpu_count() or 1) // args.parallel)
    running: dict[str, tuple[subprocess.Popen, Path, float, int]] = {}  # name: (process, folder, start, slot)
    exps = {e.name: e for e in experiments}
    failed, done, last_line = [], len(experiments) - len(pending), 0.0
    try:
        while pending or running:
            while pending and len(running) < args.parallel:
                exp = pending.pop(0)
                resumed = (out / exp.name / "checkpoint.pt").is_file()
                print(f"{exp.name}: {'resuming' if resumed else 'starting'} ({exp.about})", flush=True)
                slot = min(set(range(args.parallel)) - {r[3] for r in running.values()})  # its GPU, where several
                running[exp.name] = (launch(exp, args, slot, threads), out / exp.name, time.time(), slot)
            for name, (proc, run_dir, start, _) in list(running.items()):
                code = proc.poll()
                if code is None:
                    continue
                del running[name]
                if code == 0 and not trained(run_dir, steps_for(exps[name], args)):
                    print(f"{name}: stopped before its budget; rerun the same command to continue", flush=True)
                    failed.append(name)
                elif code in (0, DIVERGED):
                    print(f"{name}: {'trained' if code == 0 else 'DIVERGED'}; scoring its snapshots", flush=True)
                    scorer.run(run_dir, code, time.time() - start)
                    done += 1
                else:
                    tail = (run_dir / "train.log").read_text().strip().splitlines()[-1:] or ["(no output)"]
                    print(f"{name}: gan.train failed (exit {code}): {tail[0]}", flush=True)
                    failed.append(name)
            if running and time.time() - last_line > 15:
                print(progress_line(running, done, len(experiments), args.budget_images), flush=True)
                last_line = time.time()
            time.sleep(1)
    except KeyboardInterrupt:  # the children got the same signal and save their checkpoints
        for proc, *_ in running.values():
            proc.wait()
        print("interrupted: rerun the same command to continue", file=sys.stderr)
        return 130
    print(f"finished {done}/{len(experiments)}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0

