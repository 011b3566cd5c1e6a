import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# A generator/discriminator small enough to train a few steps in well under a second.
TINY_MODEL = ["--image-size", "32", "--latent", "16", "--g-widths", "32", "16", "8", "8",
              "--d-widths", "8", "16", "32", "--batch-size", "4"]


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    return make_image_folder(tmp_path / "images")


def make_image_folder(root: Path) -> Path:
    """24 small random images of mixed sizes and formats in nested folders."""
    rng = np.random.default_rng(0)
    for i in range(24):
        sub = root / f"part{i % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        h, w = (40, 32) if i % 3 else (30, 45)
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(sub / f"{i:03d}.{'png' if i % 2 else 'jpg'}")
    return root


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the decoded-images cache inside the test's temporary folder."""
    import gan.data

    cache = tmp_path / "cache"
    monkeypatch.setattr(gan.data, "CACHE_DIR", cache)
    monkeypatch.setenv("GAN_CACHE", str(cache))
    return cache


def page_test(script: str, timeout: float = 120):
    """An AppTest of pages/<script> as the app serves it, through app.py (the sidebar's page links need it);
    set its session state or query parameters, then .run() it."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    return at.switch_page(f"pages/{script}")
