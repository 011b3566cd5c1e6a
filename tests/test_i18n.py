"""Russian and English: the catalogs are complete and compiled, the switch follows the URL, every page speaks both."""
from __future__ import annotations

import ast
import gettext
import re
import subprocess
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import page_test
from gan import i18n

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "gan" / "locales" / "ru" / "LC_MESSAGES" / "gan.po"
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LETTER = re.compile(r"[^\W\d_]")
RU = i18n.catalog("ru").gettext
PAGES = ["app.py", "1_Basis_transforms.py", "2_Weight_recovery.py", "4_Experiments.py"]  # Faces: its own tests


def sources() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "gan").rglob("*.py"))]


# ------------------------------------------------------------------------------------------ the catalogs

def test_every_marked_string_has_a_russian_translation(tmp_path):
    template = tmp_path / "gan.pot"
    subprocess.run([str(ROOT / "scripts" / "i18n.sh"), "pot", str(template)], cwd=ROOT, check=True)
    merged = tmp_path / "merged.po"
    subprocess.run(["msgmerge", "--quiet", "--no-fuzzy-matching", "-o", str(merged), str(CATALOG), str(template)],
                   check=True)
    missing = subprocess.run(["msgattrib", "--untranslated", "--no-obsolete", str(merged)], capture_output=True,
                             text=True, check=True).stdout
    fuzzy = subprocess.run(["msgattrib", "--only-fuzzy", "--no-obsolete", str(merged)], capture_output=True,
                           text=True, check=True).stdout
    assert not missing and not fuzzy, f"translate these in {CATALOG}, then run scripts/i18n.sh:\n{missing}{fuzzy}"


def test_the_compiled_catalog_matches_its_source(tmp_path):
    compiled = tmp_path / "gan.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(CATALOG)], check=True)  # placeholders match too
    fresh = gettext.GNUTranslations(open(compiled, "rb"))
    shipped = gettext.GNUTranslations(open(CATALOG.with_suffix(".mo"), "rb"))
    assert shipped._catalog == fresh._catalog, "gan.mo is stale: run scripts/i18n.sh compile"


def test_no_string_is_formatted_before_it_is_translated():
    """_(f"...") or _("..." % x) would never match the catalog: the text must be the literal msgid."""
    bad = [f"{path.relative_to(ROOT)}: {line.strip()}" for path in sources()
           for line in path.read_text().splitlines() if re.search(r"\b_\(\s*f[\"']|\b_\([^)]*[\"']\s*%", line)]
    assert not bad, "\n".join(bad)


def test_no_module_that_translates_reuses_the_underscore():
    """`for _ in ...` or `x, _ = ...` in a function that also calls _() would shadow gettext there."""
    bad = []
    for path in sources():
        tree = ast.parse(path.read_text())
        imports = any(isinstance(n, ast.ImportFrom) and n.module == "gan.i18n" and any(a.name == "_" for a in n.names)
                      for n in ast.walk(tree))
        comprehensions = {id(n) for c in ast.walk(tree) if isinstance(c, ast.comprehension) for n in ast.walk(c.target)}
        bad += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(tree) if imports and isinstance(n, ast.Name)
                and n.id == "_" and isinstance(n.ctx, ast.Store) and id(n) not in comprehensions]
    assert not bad, bad


def test_outside_a_session_the_text_is_english():
    assert i18n.language() == "en"
    assert i18n._("Basis transforms") == "Basis transforms"
    assert CYRILLIC.search(RU("Basis transforms"))


@pytest.mark.parametrize("n, form", [(1, 0), (2, 1), (5, 2), (11, 2), (21, 0), (24, 1), (112, 2)])
def test_russian_plurals_take_the_three_forms(n, form):
    """1 эксперимент, 2 эксперимента, 5 экспериментов: the catalog's Plural-Forms header."""
    assert i18n.catalog("ru").plural(n) == form


@pytest.mark.parametrize("locale, language", [("ru-RU", "ru"), ("ru", "ru"), ("en-GB", "en"), ("de-DE", "en"),
                                              (None, "en")])
def test_the_browser_language_chooses_when_there_is_no_parameter(locale, language):
    assert i18n.browser_language(locale) == language


# ------------------------------------------------------------------------------------------ the switch

def app(lang: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if lang:
        at.query_params["lang"] = lang
    return at.run()


def switch(at: AppTest):
    return next(w for w in at.sidebar.button_group if w.key == i18n.SWITCH)


def links(at: AppTest) -> list[str]:
    return [link.proto.label for link in at.sidebar.get("page_link")]


def test_the_url_chooses_the_language_and_keeps_it():
    at = app("ru")
    assert not at.exception
    assert at.title[0].value == RU("GAN lab") and at.query_params["lang"] == "ru"
    assert app().query_params["lang"] == "en"  # without a parameter (and no browser language): English, in the URL


def test_the_switch_changes_the_language_and_keeps_the_session_state():
    at = app("en")
    at.session_state["kept"] = 42
    switch(at).set_value("ru").run()
    assert not at.exception
    assert at.title[0].value == RU("GAN lab")
    assert at.query_params["lang"] == "ru" and at.session_state["kept"] == 42


def test_a_rerun_with_the_url_from_before_the_switch_keeps_the_new_language():
    """A live fragment's update can carry the URL the browser had before it heard of the switch."""
    at = app("en")
    switch(at).set_value("ru").run()
    at.query_params["lang"] = "en"  # stale
    at.run()
    assert at.title[0].value == RU("GAN lab") and at.query_params["lang"] == "ru"


# ------------------------------------------------------------------------------------------ every page

def prose(at: AppTest) -> list[str]:
    """What the page says in words: titles, headers, markdown, captions, alerts, and its widgets' labels."""
    elements = [*at.title, *at.header, *at.subheader, *at.markdown, *at.caption, *at.info, *at.warning, *at.error]
    widgets = [w for kind in ("button", "slider", "select_slider", "selectbox", "radio", "number_input",
                              "text_input", "multiselect", "checkbox", "toggle") for w in at.get(kind)]
    code = re.compile(r"```.*?```|`[^`]*`", re.S)  # commands and names stay as they are
    return [code.sub("", t) for t in [e.value for e in elements] + [w.label for w in widgets
                                                                      if getattr(w, "key", None) != i18n.SWITCH]]


def page(name: str, lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180) if name == "app.py" else page_test(name, 180)
    at.session_state[i18n.KEY] = lang
    return at.run()


@pytest.mark.parametrize("name", PAGES)
def test_every_page_in_russian_is_mostly_cyrillic(name):
    at = page(name, "ru")
    assert not at.exception, at.exception
    texts = prose(at)
    letters = [c for t in texts for c in LETTER.findall(t)]
    share = sum(bool(CYRILLIC.match(c)) for c in letters) / len(letters)
    assert share >= 0.7, f"{share:.0%} Cyrillic"
    headings = [h.value for h in [*at.title, *at.header, *at.subheader]]
    assert all(CYRILLIC.search(h) for h in headings), headings
    assert len(links(at)) == 5 and all(CYRILLIC.search(link) for link in links(at)), links(at)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_in_english_has_no_cyrillic(name):
    at = page(name, "en")
    assert not at.exception, at.exception
    assert not [t for t in prose(at) + links(at) if CYRILLIC.search(t)]
