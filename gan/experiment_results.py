"""Compact experiment results: what `gan.experiments summarize` writes and the Experiments page reads.

checkpoints/experiments/<name>/
    summary.json        name, knob, about, report, flags, image_size, budget_images, images_seen, fd_attr,
                        diversity, verdict, reason, seconds, snapshots [{step, images, fd_attr, diversity, grid}]
    losses.csv          step, images, d_loss, g_loss, d_real, d_fake (thinned to at most MAX_LOSS_ROWS rows)
    grids/step_*.jpg    the same latents through every snapshot, in every experiment
No weights: a whole experiment stays well under a megabyte.
"""
from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

from gan.experiments import BY_NAME, Experiment
from gan.i18n import N_, _

SHIPPED = Path(__file__).resolve().parent.parent / "checkpoints" / "experiments"

MAX_LOSS_ROWS = 200
LOSS_COLUMNS = ("step", "images", "d_loss", "g_loss", "d_real", "d_fake")
COLLAPSE_DIVERSITY = 0.75  # generated / real mean feature distance (real faces: 1.0)
DIVERGED_RISE = 2.0  # final FD_attr over the run's best
SLOW_FACTOR = 1.5  # final FD_attr over the baseline's
VERDICTS = (N_("converged"), N_("slow"), N_("collapsed"), N_("diverged"))  # shown with _(verdict)


def verdict_rule() -> str:
    return _("**diverged**: a loss went NaN, or FD_attr ended above {rise:g}× its best along the run · "
             "**collapsed**: diversity ratio below {collapse:g} at the end (real faces: 1.0) · "
             "**slow**: neither, but final FD_attr above {slow:g}× the baseline's · "
             "**converged**: the rest").format(rise=DIVERGED_RISE, collapse=COLLAPSE_DIVERSITY, slow=SLOW_FACTOR)


def verdict(fd: list[float | None], diversity: list[float | None], nan_stop: bool,
            baseline_fd: float | None) -> tuple[str, str]:
    """(verdict, reason) from the FD_attr and diversity-ratio series of one run, by verdict_rule()."""
    scored = [x for x in fd if x is not None]
    if nan_stop or not scored or fd[-1] is None:
        return "diverged", _("training stopped on a NaN loss") if nan_stop else _("its last snapshot does not score")
    best, final = min(scored), fd[-1]
    if final > DIVERGED_RISE * best:
        return "diverged", _("FD_attr rose from its best {best:.2f} to {final:.2f}").format(best=best, final=final)
    if diversity[-1] is not None and diversity[-1] < COLLAPSE_DIVERSITY:
        return "collapsed", _("diversity ratio {diversity:.2f} < {collapse:g}").format(
            diversity=diversity[-1], collapse=COLLAPSE_DIVERSITY)
    if baseline_fd is not None and final > SLOW_FACTOR * baseline_fd:
        return "slow", _("FD_attr {final:.2f} > {slow:g} × the baseline's {baseline:.2f}").format(
            final=final, slow=SLOW_FACTOR, baseline=baseline_fd)
    return "converged", _("FD_attr {final:.2f}, diversity ratio {diversity:.2f}").format(
        final=final, diversity=diversity[-1])


def judge(summaries: list[dict]) -> None:
    """Set each summary's verdict and reason (in the session's language), against the baseline among them."""
    base = next((s["fd_attr"] for s in summaries if s["name"] == "baseline"), None)
    for s in summaries:
        s["verdict"], s["reason"] = verdict([x["fd_attr"] for x in s["snapshots"]],
                                            [x["diversity"] for x in s["snapshots"]], s["nan_stop"], base)


def thin(rows: list[dict], most: int = MAX_LOSS_ROWS) -> list[dict]:
    """At most `most` rows, evenly spaced, the last one kept."""
    if len(rows) <= most:
        return rows
    keep = {round(i * (len(rows) - 1) / (most - 1)) for i in range(most)}
    return [r for i, r in enumerate(rows) if i in keep]


def write_losses(src: Path, dst: Path) -> None:
    rows = list(csv.DictReader(open(src, newline=""))) if src.is_file() else []
    with open(dst, "w", newline="") as f:
        writer = csv.DictWriter(f, LOSS_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(thin(rows))


def run_summary(run_dir: Path) -> dict:
    """The summary of one scored run folder, without the verdict (that needs the baseline)."""
    scores = json.loads((run_dir / "scores.json").read_text())
    meta = json.loads((run_dir / "experiment.json").read_text())
    train_flags, snaps = meta["flags"], scores["snapshots"]
    exp = BY_NAME.get(meta["name"]) or Experiment(meta["name"], "", tuple(train_flags), "not in gan.experiments")
    last = snaps[-1] if snaps else {}
    return {"name": exp.name, "knob": exp.knob, "about": exp.about, "report": exp.report,
            "report_en": exp.report_en, "flags": list(exp.flags), "train_flags": train_flags,
            "image_size": int(train_flags[train_flags.index("--image-size") + 1]),
            "budget_images": meta["budget_images"], "hardware": meta["hardware"], "cores": meta["cores"],
            "images_seen": last.get("images"), "fd_attr": last.get("fd_attr"), "diversity": last.get("diversity"),
            "nan_stop": scores["exit_code"] != 0, "seconds": scores["seconds"], "eval_n": scores["eval_n"],
            "snapshots": snaps}


def summarize(src: str | Path, dst: str | Path) -> list[dict]:
    """Write the compact results of every scored run in src into dst/<name>/; returns the summaries."""
    runs = sorted(p.parent for p in Path(src).glob("*/scores.json"))
    if not runs:
        raise ValueError(f"no scored experiment in {src}: run `python -m gan.experiments run ... --out {src}` first")
    summaries = [run_summary(r) for r in runs]
    judge(summaries)
    for s, run_dir in zip(summaries, runs):
        out = Path(dst) / s["name"]
        shutil.rmtree(out, ignore_errors=True)
        (out / "grids").mkdir(parents=True)
        for snap in s["snapshots"]:
            shutil.copyfile(run_dir / snap["grid"], out / snap["grid"])
        write_losses(run_dir / "losses.csv", out / "losses.csv")
        (out / "summary.json").write_text(json.dumps(s, ensure_ascii=False, indent=1))
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        print(f"{s['name']:<16} {s['verdict']:<10} FD_attr {s['fd_attr']}  ({size / 1024:.0f} KiB)")
    return summaries


def load(root: str | Path) -> list[dict]:
    """Every readable summary under root, judged and ranked by final FD_attr (unscored last); each with its
    folder."""
    out = []
    for path in Path(root).glob("*/summary.json"):
        try:
            s = json.loads(path.read_text())
            s["dir"] = path.parent
            out.append(s)
        except (OSError, ValueError):
            continue
    judge(out)
    return sorted(out, key=lambda s: s["fd_attr"] if isinstance(s.get("fd_attr"), (int, float)) else math.inf)


def losses(summary: dict) -> list[dict]:
    """The thinned loss rows of one experiment, as floats, tagged with its name."""
    path = Path(summary["dir"]) / "losses.csv"
    if not path.is_file():
        return []
    return [{"experiment": summary["name"], **{k: float(v) for k, v in r.items() if v not in ("", None)}}
            for r in csv.DictReader(open(path, newline=""))]


def default_pick(runs: list[dict]) -> list[str]:
    """The baseline, the report's preset and the best-ranked failure: the comparison a lesson opens with."""
    failed = [r["name"] for r in runs if r.get("verdict") in ("collapsed", "diverged")]
    wanted = ["baseline", "report-preset", *failed[:1]]
    names = [r["name"] for r in runs]
    picked = [n for n in wanted if n in names]
    return picked + [n for n in names if n not in picked][:max(0, 2 - len(picked))]


def differing_flags(summary: dict) -> str:
    """The flags that set this experiment apart from the baseline, as on a command line."""
    return " ".join(summary.get("flags", [])) or _("(none: this is the base)")


def hardware(summary: dict) -> str:
    """Where the experiment trained, in words: 'on the CPU (2 cores)', 'on NVIDIA H200'."""
    if summary["hardware"] == "CPU":
        return _("on the CPU ({cores} cores)").format(cores=summary["cores"])
    return _("on {gpu}").format(gpu=summary["hardware"])
