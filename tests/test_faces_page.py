"""The Faces page in AppTest: shipped checkpoints, widgets, uploads, and what it says when there are none."""
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

import gan.discriminator
import gan.i18n
import gan.sample
from conftest import page_test
from gan.attributes import load_directions
from gan.checkpoint import load_checkpoint


def run_page(lang: str | None = None) -> AppTest:
    at = page_test("3_Faces.py", timeout=300)
    if lang:
        at.session_state["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def prose(at: AppTest) -> list[str]:
    """What the page says in sentences: title, headers, markdown, captions, notes (main area and sidebar)."""
    kinds = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    return [el.value for kind in kinds for el in at.get(kind)]


def cyrillic(text: str) -> float:
    """The share of text's letters that are Cyrillic (0 when it has none)."""
    letters = [c for c in text if c.isalpha()]
    return sum("\u0400" <= c <= "\u04ff" for c in letters) / max(1, len(letters))


@pytest.mark.skipif(not gan.sample.shipped_runs(), reason="no shipped checkpoints")
def test_page_renders_the_shipped_generator_and_responds():
    at = run_page()
    assert len(at.get("image")) >= 4  # grid, interpolation strip, progress rows
    scores = gan.sample.shipped_scores(next(iter(gan.sample.shipped_runs().values()))[-1])
    if scores:
        assert any(f"FD_attr {scores['FD_attr']:.2f}" in c.value for c in at.sidebar.caption)
    at.number_input(key="grid_seed").set_value(5).run()
    at.sidebar.slider[0].set_value(0.7).run()  # truncation
    at.slider[0].set_value(5).run()  # interpolation frames
    at.radio[0].set_value("lerp").run()
    at.selectbox[0].set_value(at.selectbox[0].options[-1]).run()  # attribute, or none at all
    assert not at.exception, at.exception
    assert not at.error


@pytest.mark.skipif(not gan.sample.shipped_runs(), reason="no shipped checkpoints")
def test_the_attribute_tab_charts_the_classifiers_scores_along_the_chosen_direction():
    at = run_page()
    at.selectbox(key="attr_name").set_value("Smiling").run()
    default = next(iter(gan.sample.shipped_runs().values()))[-1]  # the page's default: the first run's last snapshot
    directions = load_directions(load_checkpoint(default))
    k = directions["names"].index("Smiling")
    chart = next(c for c in at.get("vega_lite_chart")
                 if json.loads(c.proto.spec).get("encoding", {}).get("y", {}).get("title") == "classifier score")
    rows = pa.ipc.open_stream(chart.proto.data.data).read_all()  # Streamlit sends the spec's values as Arrow
    assert rows["t"].to_pylist() == pytest.approx(directions["t"].tolist(), abs=1e-3)
    assert rows["score"].to_pylist() == pytest.approx(directions["scores"][k].tolist(), abs=1e-4)


def test_without_checkpoints_the_page_explains_how_to_train(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(gan.sample, "CHECKPOINTS", tmp_path / "empty")
    at = run_page()
    assert "python -m gan.train" in at.info[0].value
    assert not at.get("image")


def test_a_broken_checkpoint_is_refused_with_a_message(tmp_path: Path, monkeypatch):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "step_0000001.pt").write_bytes(b"not a checkpoint")
    monkeypatch.setattr(gan.sample, "CHECKPOINTS", tmp_path)
    at = run_page()
    assert "cannot be used" in at.error[0].value


@pytest.mark.skipif(not gan.sample.shipped_runs(), reason="no shipped checkpoints")
def test_an_uploaded_generator_is_checked_and_used_without_a_file_on_disk(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # anything the page wrote to the temp folder lands here
    good = gan.sample.default_checkpoint()
    crafted = torch.load(good, weights_only=True)
    crafted["config"]["g_widths"] = [400_000, 128, 64, 32, 16]
    buf = io.BytesIO()
    torch.save(crafted, buf)
    at = run_page()
    at.sidebar.file_uploader[0].set_value(("huge.pt", buf.getvalue(), "application/octet-stream")).run()
    assert "cannot be used" in at.error[0].value and "limits are 50 M parameters" in at.error[0].value
    odd = torch.load(good, weights_only=True)
    odd["metrics"], odd["data"] = ["not", "a", "dict"], "anything"  # metadata is whatever the author wrote
    buf = io.BytesIO()
    torch.save(odd, buf)
    at.sidebar.file_uploader[0].set_value(("odd.pt", buf.getvalue(), "application/octet-stream")).run()
    assert not at.exception and not at.error and "0.0M images seen" in at.sidebar.caption[0].value
    at.sidebar.file_uploader[0].set_value(("mine.pt", good.read_bytes(), "application/octet-stream")).run()
    assert not at.exception and not at.error
    assert at.sidebar.selectbox[0].value == "uploaded file" and at.get("image")
    assert not any(tmp_path.iterdir())


def captions(at: AppTest) -> list[str]:
    return [i.caption for image in at.get("image") for i in image.proto.imgs]


@pytest.mark.skipif(not gan.sample.shipped_runs(), reason="no shipped checkpoints")
def test_unsupervised_directions_are_strips_named_by_their_closest_attributes():
    at = run_page()
    strips = [c for c in captions(at) if "first layer's energy" in c]
    assert len(strips) == 5 and all("most like" in c for c in strips)  # the default carries attribute directions
    at.slider(key="sefa_top").set_value(3).run()
    assert len([c for c in captions(at) if "first layer's energy" in c]) == 3
    assert not at.exception and not at.error


def run_page_with_real_images(folder: Path, monkeypatch, n: int) -> AppTest:
    """The page with $GAN_LAB_REAL_IMAGES naming a folder of n random "photos" (80x60 PNGs)."""
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (80, 60, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    monkeypatch.setenv("GAN_LAB_REAL_IMAGES", str(folder))
    return run_page()


@pytest.mark.skipif(not gan.sample.shipped_runs(), reason="no shipped checkpoints")
def test_projection_redraws_a_photo_from_the_real_images_folder(tmp_path: Path, monkeypatch):
    at = run_page_with_real_images(tmp_path, monkeypatch, 2)
    at.slider(key="project_steps").set_value(10).run()
    next(b for b in at.button if b.label == "Project").click().run()
    assert not at.exception and not at.error
    shown = captions(at)
    assert "target" in shown and "G(z) after 10 steps" in shown
    assert any(c.startswith("Smiling") for c in shown)  # the sliders act on the found z
    assert any("reconstruction error" in str(c.proto) for c in at.get("vega_lite_chart"))


def test_projection_explains_where_photos_come_from(monkeypatch):
    monkeypatch.delenv("GAN_LAB_REAL_IMAGES", raising=False)
    at = run_page()
    assert any("GAN_LAB_REAL_IMAGES" in i.value for i in at.info)


needs_discriminator = pytest.mark.skipif(not gan.discriminator.DEFAULT_FILE.exists(), reason="no shipped discriminator")


@needs_discriminator
def test_the_discriminator_ranks_faces_and_plays_a_real_or_fake_round(tmp_path: Path, monkeypatch):
    at = run_page_with_real_images(tmp_path, monkeypatch, 8)
    shown = [float(c) for c in captions(at) if c[:1] in "+-" and c[1:2].isdigit()]
    assert len(shown) == 16 and shown == sorted(shown, reverse=True)  # 8 most real, then 8 most fake
    for i in range(12):
        at.radio(key=f"round0_{i}").set_value("real" if i % 2 else "fake")
    at.run()
    next(b for b in at.button if b.label == "Reveal").click().run()
    assert not at.exception and not at.error
    assert "You were right on" in at.success[0].value
    assert sum(c.startswith(("real ·", "fake ·")) for c in captions(at)) == 12
    next(b for b in at.button if b.label == "New round").click().run()
    assert not at.success and at.session_state["round"] == 1


@pytest.mark.skipif(not gan.sample.shipped_runs(), reason="no shipped checkpoints")
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_page_speaks_the_sessions_language(lang):
    at = run_page(lang)
    said = prose(at) + [t.label for t in at.tabs]
    labels = [w.label for kind in ("slider", "number_input", "selectbox", "radio", "select_slider", "button")
              for w in at.get(kind)]
    shown = captions(at) + labels
    if lang == "ru":
        assert cyrillic(" ".join(prose(at))) >= 0.7, prose(at)
        assert all(cyrillic(t.label) > 0.5 for t in at.tabs), [t.label for t in at.tabs]
        assert all(cyrillic(label) > 0 for label in labels), labels
        assert any("энергии первого слоя" in c for c in shown)  # SeFa strips
        attribute = at.selectbox(key="attr_name")
        attribute.select_index(attribute.options.index("Мужской пол")).run()
        assert at.session_state["attr_name"] == "Male"  # the value stays the English key
        assert not at.exception and not at.error
        assert any(c.startswith("Мужской пол, t =") for c in captions(at))
    else:
        assert not [t for t in said + shown if cyrillic(t)], [t for t in said + shown if cyrillic(t)]


@pytest.mark.skipif(not gan.sample.shipped_runs(), reason="no shipped checkpoints")
def test_switching_the_language_keeps_the_widgets_values():
    at = run_page("en")
    at.number_input(key="grid_seed").set_value(5)
    at.selectbox(key="attr_name").set_value("Male")
    at.slider(key="sefa_top").set_value(3).run()
    next(w for w in at.sidebar.button_group if w.key == gan.i18n.SWITCH).set_value("ru").run()  # the sidebar switch
    assert not at.exception and not at.error
    assert at.number_input(key="grid_seed").value == 5 and at.selectbox(key="attr_name").value == "Male"
    assert at.slider(key="sefa_top").value == 3 and at.title[0].value == gan.i18n.catalog("ru").gettext("Faces")


def test_a_broken_checkpoint_is_refused_in_russian(tmp_path: Path, monkeypatch):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "step_0000001.pt").write_bytes(b"not a checkpoint")
    monkeypatch.setattr(gan.sample, "CHECKPOINTS", tmp_path)
    at = run_page("ru")
    assert at.error[0].value.startswith("Этот файл нельзя использовать:"), at.error[0].value
    assert "не читается как файл PyTorch" in at.error[0].value


@pytest.mark.skipif(not gan.sample.shipped_runs(), reason="no shipped checkpoints")
def test_a_crafted_upload_is_refused_in_russian(tmp_path: Path, monkeypatch):
    crafted = torch.load(gan.sample.default_checkpoint(), weights_only=True)
    crafted["config"]["g_widths"] = [400_000, 128, 64, 32, 16]
    buf = io.BytesIO()
    torch.save(crafted, buf)
    monkeypatch.setattr(gan.sample, "CHECKPOINTS", tmp_path / "empty")  # nothing shipped: only the upload to load
    at = run_page("ru")
    assert "python -m gan.train" in at.info[0].value and cyrillic(at.info[0].value) > 0.5
    at.sidebar.file_uploader[0].set_value(("huge.pt", buf.getvalue(), "application/octet-stream")).run()
    error = at.error[0].value
    assert "загруженный файл нельзя использовать: генератор из файла имел бы" in error, error
    assert "пределы — 50 млн параметров" in error and cyrillic(error) > 0.7
