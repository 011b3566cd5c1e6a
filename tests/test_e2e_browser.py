"""End to end: `streamlit run app.py` on a free port, driven in headless Chromium like a student would.

Needs Playwright's Python API and Debian's chromium (`.ci/run` installs both); without them the
whole file is skipped. Every test leaves a screenshot in artifacts/screenshots/.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
TIMEOUT_MS = 120_000  # a cold first run loads every generator and samples them on a busy 2-core machine

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Locator, Page, expect  # noqa: E402
from PIL import Image  # noqa: E402

import gan.discriminator  # noqa: E402
import gan.i18n  # noqa: E402
import gan.sample  # noqa: E402
from gan.attributes import load_directions  # noqa: E402
from gan.checkpoint import load_checkpoint, load_generator  # noqa: E402
from gan.serving import streamlit_server  # noqa: E402

expect.set_options(timeout=TIMEOUT_MS)
RU = gan.i18n.catalog("ru").gettext


# ------------------------------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app's base URL, served by a fresh `streamlit run app.py` for this file's tests."""
    with streamlit_server(ROOT, tmp_path_factory.mktemp("streamlit") / "server.log") as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser session (its own Streamlit session); a screenshot of its window is saved at the end."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    try:
        yield tab
    finally:
        save_screenshot(tab, request.node.name)
        context.close()


# ------------------------------------------------------------------------------------------ helpers

def save_screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.-]+", "_", name)
    page.screenshot(path=str(SCREENSHOTS / f"{safe}.png"))


def wait_idle(page: Page) -> None:
    """Wait until the script run the page started is over."""
    expect(page.locator('[data-testid="stApp"]')).to_have_attribute("data-test-script-state", "notRunning")


def assert_no_exception(page: Page) -> None:
    """No Streamlit exception box and no error box anywhere on the page."""
    expect(page.locator('[data-testid="stException"]')).to_have_count(0, timeout=1000)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0, timeout=1000)


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("h1").first).to_be_visible()
    wait_idle(page)
    assert_no_exception(page)


def set_number(field: Locator, value: int | float) -> None:
    field.fill(str(value))
    field.press("Enter")


def move_slider(slider: Locator, key: str, times: int = 1) -> None:
    """Move a slider's thumb with the keyboard, as a student tabbing through the page could."""
    thumb = slider.get_by_role("slider")
    thumb.focus()
    for _ in range(times):
        thumb.press(key)


def slider_value(slider: Locator) -> float:
    return float(slider.get_by_role("slider").input_value())


def sidebar_slider(page: Page, label: str) -> Locator:
    return page.get_by_test_id("stSidebar").get_by_test_id("stSlider").filter(has_text=label)


def shown_tab(page: Page, name: str) -> Locator:
    page.get_by_role("tab", name=name).click()
    return page.get_by_role("tabpanel", name=name)


NAV = {"Basis transforms": "Basis_transforms", "Weight recovery": "Weight_recovery", "Faces": "Faces",
       "Experiments": "Experiments"}  # app.py's sidebar labels and URL paths, home page aside


def first_shipped_generator() -> Path:
    """The checkpoint the Faces page picks by default: the last snapshot of the first run."""
    return next(iter(gan.sample.shipped_runs().values()))[-1]


needs_checkpoints = pytest.mark.skipif(not gan.sample.shipped_runs(), reason="no shipped checkpoints")


# ------------------------------------------------------------------------------------------ every page

def test_home_links_every_page_and_each_opens_cleanly(server: str, page: Page) -> None:
    open_page(page, server)
    expect(page.get_by_role("heading", name="GAN lab")).to_be_visible()
    nav = page.get_by_test_id("stSidebar")
    title = page.locator("h1").first
    for label, path in NAV.items():
        previous = title.inner_text()
        nav.get_by_role("link", name=label).click()
        expect(page).to_have_url(re.compile(rf"/{path}\?lang=en$"))
        expect(title).not_to_have_text(previous)  # the new page has drawn its own title
        wait_idle(page)
        assert_no_exception(page)
        save_screenshot(page, f"page_{path}")


# ------------------------------------------------------------------------------------------ languages

def test_a_russian_browser_gets_russian_and_the_switch_keeps_a_run_training(server: str, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ru-RU")
    page = context.new_page()
    try:
        open_page(page, server)
        expect(page.get_by_role("heading", name=RU("GAN lab"))).to_be_visible()
        expect(page).to_have_url(re.compile(r"\?lang=ru$"))
        page.get_by_test_id("stSidebar").get_by_role("link", name=RU("Weight recovery")).click()
        expect(page.get_by_role("heading", name=RU("Weight recovery, live"))).to_be_visible()
        wait_idle(page)
        save_screenshot(page, "language_ru_weight_recovery")
        sidebar = page.get_by_test_id("stSidebar")
        set_number(sidebar.get_by_role("spinbutton", name=RU("Iterations (at most {most})").format(most=3000)), 3000)
        wait_idle(page)
        page.get_by_role("button", name=RU("Start")).click()
        expect(page.get_by_text(re.compile(r"[1-9][\d\u202f]* \S+ 3\u202f000"))).to_be_visible()  # "k of 3 000"
        sidebar.get_by_text("English", exact=True).click()
        expect(page.get_by_role("heading", name="Weight recovery, live")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/Weight_recovery\?lang=en$"))
        header = page.get_by_text(re.compile(r"Iteration [\d,]+ of 3,000"))
        seen = int(re.search(r"Iteration ([\d,]+)", header.inner_text()).group(1).replace(",", ""))
        expect(page.get_by_text(re.compile(rf"Iteration (?!{seen:,} )[\d,]+ of 3,000"))).to_be_visible()
        assert page.get_by_role("button", name="Pause").is_enabled()  # the same run, still training
        save_screenshot(page, "language_switched_to_en_mid_run")
        page.get_by_role("button", name="Pause").click()
        assert_no_exception(page)
    finally:
        context.close()


def test_a_link_with_lang_ru_opens_the_page_in_russian(server: str, page: Page) -> None:
    open_page(page, f"{server}/Experiments?lang=ru")
    expect(page.get_by_role("heading", name=RU("Why face GANs converge or collapse"))).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_role("link", name=RU("Experiments"))).to_be_visible()
    assert_no_exception(page)


# ------------------------------------------------------------------------------------------ toy GAN

def test_basis_transforms_redraw_when_a_changes(server: str, page: Page) -> None:
    open_page(page, f"{server}/Basis_transforms")
    figures = page.get_by_test_id("stMain").get_by_test_id("stImage").locator("img")
    expect(figures.first).to_be_visible()
    count = figures.count()
    before = [figures.nth(i).get_attribute("src") for i in range(count)]
    move_slider(sidebar_slider(page, "A[0,0]"), "ArrowRight")
    expect(figures.first).not_to_have_attribute("src", before[0])
    wait_idle(page)
    after = [figures.nth(i).get_attribute("src") for i in range(count)]
    assert all(a != b for a, b in zip(before, after)), "every figure depends on A"
    assert_no_exception(page)


def test_weight_recovery_runs_to_the_end_on_the_changed_target(server: str, page: Page) -> None:
    open_page(page, f"{server}/Weight_recovery")
    w00 = sidebar_slider(page, "W[0,0]")
    target = slider_value(w00) + 0.05
    move_slider(w00, "ArrowRight")
    wait_idle(page)
    set_number(page.get_by_test_id("stSidebar").get_by_role("spinbutton", name=re.compile("^Iterations")), 60)
    wait_idle(page)
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Download the history (CSV)")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Iteration 60 of 60"))).to_be_visible()
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    w_table = page.get_by_test_id("stMain").get_by_test_id("stColumn").filter(has_text="W (target)")
    first_entry = w_table.locator("td").first  # the data grid's accessible table, drawn off screen
    expect(first_entry).to_be_attached()
    assert float(first_entry.text_content()) == pytest.approx(target, abs=1e-6)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the history (CSV)").click()
    assert len(Path(download.value.path()).read_text().splitlines()) == 1 + 60  # header and one row per iteration
    assert_no_exception(page)


def test_weight_recovery_shows_the_game_while_it_trains_and_takes_a_new_learning_rate(server: str, page: Page) -> None:
    open_page(page, f"{server}/Weight_recovery")
    sidebar = page.get_by_test_id("stSidebar")
    set_number(sidebar.get_by_role("spinbutton", name=re.compile("^Iterations")), 200)
    wait_idle(page)
    page.get_by_role("button", name="D step").click()
    expect(page.get_by_text(re.compile(r"1 D steps, 0 G steps"))).to_be_visible()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text(re.compile(r"Iteration [1-9]\d+ of 200"))).to_be_visible()
    set_number(sidebar.get_by_role("textbox", name="G learning rate"), 0.02)  # mid-run: no reset
    expect(page.get_by_text(re.compile(r"Iteration 200 of 200"))).to_be_visible()
    expect(page.get_by_role("button", name="Download the history (CSV)")).to_be_visible()  # the results: the run's
    # last update is drawn first, then the whole page runs again
    views = {"model": page.get_by_test_id("stGraphVizChart"), "game": page.get_by_test_id("stVegaLiteChart").first,
             "curves": page.get_by_test_id("stVegaLiteChart").nth(1)}
    for name, view in views.items():
        expect(view).to_be_visible()
        view.scroll_into_view_if_needed()
        view.screenshot(path=str(SCREENSHOTS / f"weight_recovery_{name}.png"))
    assert page.get_by_test_id("stGraphVizChart").locator("svg text").filter(has_text="G's loss").count() == 1
    assert views["game"].locator("canvas, svg").first.bounding_box()["width"] > 600  # data view and loss surface
    expect(page.get_by_text(re.compile(r"last change, after step \d+: lr_g 0.01 → 0.02"))).to_be_visible()
    assert_no_exception(page)


# ------------------------------------------------------------------------------------------ faces

@needs_checkpoints
def test_faces_new_seed_and_truncation_redraw_the_grid(server: str, page: Page) -> None:
    open_page(page, f"{server}/Faces")
    samples = shown_tab(page, "Samples")
    expect(samples.get_by_text("16 samples, seed 0, ψ = 1.0")).to_be_visible()
    set_number(samples.get_by_role("spinbutton", name="Seed"), 5)
    expect(samples.get_by_text("16 samples, seed 5, ψ = 1.0")).to_be_visible()
    move_slider(page.get_by_test_id("stSidebar").get_by_test_id("stSlider"), "ArrowLeft")
    expect(samples.get_by_text("16 samples, seed 5, ψ = 0.95")).to_be_visible()
    grid = samples.get_by_test_id("stImage").locator("img")
    expect(grid).to_have_count(1)
    assert grid.evaluate("img => img.complete && img.naturalWidth") > 500  # 4 faces of 64 px a row, drawn twice as big
    assert_no_exception(page)


@needs_checkpoints
def test_faces_interpolation_frames_path_and_gif(server: str, page: Page) -> None:
    open_page(page, f"{server}/Faces")
    walk = shown_tab(page, "Interpolation")
    move_slider(walk.get_by_test_id("stSlider"), "Home")  # the fewest frames: 3
    expect(walk.get_by_test_id("stImageCaption")).to_have_text(["0.00", "0.50", "1.00"])
    middle = walk.get_by_test_id("stImageContainer").nth(1).locator("img")
    slerp_face = middle.get_attribute("src")
    walk.get_by_text("lerp", exact=True).click()
    expect(middle).not_to_have_attribute("src", slerp_face)  # the ends agree, the middle frame does not
    with page.expect_download() as download:
        walk.get_by_role("button", name="Download GIF").click()
    assert download.value.suggested_filename == "walk_1_2_lerp.gif"
    assert Path(download.value.path()).read_bytes()[:6] == b"GIF89a"
    assert_no_exception(page)


@needs_checkpoints
def test_faces_training_progress_shows_every_snapshot(server: str, page: Page) -> None:
    open_page(page, f"{server}/Faces")
    progress = shown_tab(page, "Training progress")
    runs = gan.sample.shipped_runs()
    shown = gan.sample.progress_run(next(iter(runs)), runs)  # the default run, or the run standing in for it
    snapshots = runs[shown] if shown else []
    captions = progress.get_by_test_id("stImageCaption")
    if len(snapshots) < 2:
        expect(progress.get_by_test_id("stAlertContentInfo")).to_contain_text("several snapshots")
    else:
        expect(captions).to_have_count(len(snapshots))
        expect(captions.last).to_contain_text(f"step {int(snapshots[-1].stem.split('_')[1]):,}")
    assert_no_exception(page)


@needs_checkpoints
def test_faces_attribute_slider_moves_the_face(server: str, page: Page) -> None:
    directions = load_directions(load_checkpoint(first_shipped_generator()))
    open_page(page, f"{server}/Faces")
    attributes = shown_tab(page, "Attributes")
    if directions is None:
        expect(attributes.get_by_test_id("stAlertContentInfo")).to_contain_text("no attribute directions")
        return
    name = directions["names"][0]
    expect(attributes.get_by_text(f"{name}, t = +0.00")).to_be_visible()
    face = attributes.get_by_test_id("stImageContainer").first.locator("img")
    before = face.get_attribute("src")
    move_slider(attributes.get_by_test_id("stSlider"), "ArrowRight", times=2)
    expect(attributes.get_by_text(f"{name}, t = +0.50")).to_be_visible()
    expect(face).not_to_have_attribute("src", before)
    expect(attributes.get_by_test_id("stVegaLiteChart")).to_be_visible()
    assert_no_exception(page)


def test_experiments_side_by_side_move_through_time_together(server: str, page: Page) -> None:
    open_page(page, f"{server}/Experiments")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2)
    captions = page.get_by_test_id("stImageCaption")
    expect(captions.first).to_contain_text("baseline")
    before = captions.all_inner_texts()
    move_slider(page.get_by_test_id("stSlider"), "Home")
    wait_idle(page)
    expect(captions.first).not_to_have_text(before[0])
    assert captions.all_inner_texts() != before and len(captions.all_inner_texts()) == len(before)
    assert_no_exception(page)


@needs_checkpoints
def test_faces_latent_space_tabs_open_and_project_a_photo(server: str, page: Page, tmp_path: Path) -> None:
    photo = tmp_path / "face.png"
    g, _ = load_generator(first_shipped_generator())
    Image.fromarray(gan.sample.generate(g, gan.sample.latents(1, 99, g.cfg.latent))[0]).save(photo)
    open_page(page, f"{server}/Faces")
    directions = shown_tab(page, "Directions without labels")
    expect(directions.get_by_test_id("stImageCaption").first).to_contain_text("direction 0")
    save_screenshot(page, "faces_directions_without_labels")
    project = shown_tab(page, "Can the GAN draw this face?")
    project.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(photo))
    move_slider(project.get_by_test_id("stSlider").filter(has_text="Steps"), "Home")  # 10 steps
    wait_idle(page)
    project.get_by_role("button", name="Project").click()
    expect(project.get_by_text("G(z) after 10 steps")).to_be_visible()
    expect(project.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    save_screenshot(page, "faces_projection")
    critic = shown_tab(page, "The discriminator's view")
    if gan.discriminator.DEFAULT_FILE.exists():
        expect(critic.get_by_text("Most fake to D")).to_be_visible()
    else:
        expect(critic.get_by_test_id("stAlertContentInfo")).to_contain_text("discriminator")
    save_screenshot(page, "faces_discriminator_view")
    assert_no_exception(page)
