"""Frechet distance against closed forms, and the evaluate CLI with and without Inception weights."""
import json

import numpy as np
import pytest
import torch

from gan import evaluate
from gan.evaluate import fid_inception, frechet_distance, gaussian, mean_pairwise_distance
from test_attributes import tiny_classifier, tiny_generator, write_faces


@pytest.mark.parametrize("n, tol", [(500, 1e-12), (50, 1e-6)])  # 50 < 80 dims: singular covariance
def test_identical_gaussians_are_at_distance_zero(n, tol):
    mu, s = gaussian(torch.randn(n, 80, generator=torch.Generator().manual_seed(0)))
    assert abs(frechet_distance(mu, s, mu, s)) < tol * np.trace(s)


def test_diagonal_covariances():
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.0])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 5.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)


def test_non_commuting_2x2_covariances():
    # For 2x2 PSD A, tr(A^(1/2)) = sqrt(tr A + 2 sqrt(det A)); here A ~ S1 S2.
    s1, s2 = np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([[1.0, 0.0], [0.0, 3.0]])
    tr_sqrt = np.sqrt(np.trace(s1 @ s2) + 2 * np.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    expected = 2.0 + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt
    assert frechet_distance(np.zeros(2), s1, np.array([1.0, 1.0]), s2) == pytest.approx(expected, rel=1e-10)


def test_mean_pairwise_distance():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    assert mean_pairwise_distance(x) == pytest.approx((5 + 5 + 0) / 3)


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # no cached Inception weights
    write_faces(tmp_path / "test", 12, seed=1)
    write_faces(tmp_path / "train", 12, seed=2)
    tiny_generator(tmp_path / "g.pt")
    tiny_classifier(tmp_path / "c.pt")
    return tmp_path


def run(tmp_path, *extra: str) -> list[str]:
    return ["--checkpoint", str(tmp_path / "g.pt"), "--data", str(tmp_path / "test"), "--n", "10",
            "--classifier", str(tmp_path / "c.pt"), *extra]


def test_without_inception_weights_offline_metrics_only(setup, capsys):
    evaluate.main(run(setup))
    out = capsys.readouterr().out
    assert out.startswith("FID not computed: no FID Inception weights")
    assert "Traceback" not in out and "FD_attr" in out and "g.pt" in out


def test_json_report_with_real_vs_real_baseline(setup, capsys):
    evaluate.main(run(setup, "--baseline", str(setup / "train"), "--json"))
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "FID not computed" in captured.err and report["fid"]["computed"] is False
    gen, base = report["results"][str(setup / "g.pt")], report["results"][f"real-vs-real: {setup / 'train'}"]
    for r in (gen, base):
        assert r["n"] == 10 and r["FD_attr"] >= 0 and r["diversity"] > 0 and "FID" not in r
        assert set(r["marginals"]) == {"Smiling", "Male"}


def test_fid_with_inception_weights_file(setup, capsys):
    torch.manual_seed(0)
    weights = setup / "inception.pth"
    torch.save(fid_inception().state_dict(), weights)
    evaluate.main(["--checkpoint", str(setup / "g.pt"), "--data", str(setup / "test"), "--n", "2",
                   "--classifier", str(setup / "c.pt"), "--inception-weights", str(weights), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["fid"] == {"computed": True, "note": ""}
    assert report["results"][str(setup / "g.pt")]["FID"] >= 0


def test_mismatched_inception_weights_are_reported_not_raised(setup, capsys):
    weights = setup / "wrong.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, weights)
    evaluate.main(run(setup, "--inception-weights", str(weights)))
    assert capsys.readouterr().out.startswith(f"FID not computed: {weights} is not the FID Inception state dict")


def test_bad_checkpoint_path_is_a_plain_error(setup):
    with pytest.raises(SystemExit, match="error: checkpoint not found"):
        evaluate.main(["--checkpoint", str(setup / "missing.pt"), "--data", str(setup / "test"),
                       "--classifier", str(setup / "c.pt")])
