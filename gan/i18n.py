"""The app's languages: gettext catalogs in gan/locales, and each browser session's choice among them.

    from gan.i18n import N_, _, ngettext, number
    st.title(_("Basis transforms"))
    REASONS = {"nan": N_("the losses became NaN")}    # marked here, translated where shown: _(REASONS[k])
    _("{count} faces").format(count=number(26017))     # 26,017 / 26 017

Every page calls `choose_language()` first (gan/navigation.py does): the choice made earlier in the session, else
`?lang=ru` or `?lang=en` in the URL (a link handed out opens a new session), else the browser's language, else
English. It writes the language into the URL, so that a link carries it; `language_switch()` draws the switch.
Outside a Streamlit session (the command line, the tests of gan/) `_` is English.

Catalogs: gan/locales/<lang>/LC_MESSAGES/gan.po, compiled to gan.mo by `scripts/i18n.sh` (see README.md).
"""
from __future__ import annotations

import gettext
import sys
from functools import cache
from pathlib import Path

LANGUAGES = {"en": "English", "ru": "Русский"}
DEFAULT = "en"
LOCALES = Path(__file__).parent / "locales"
DOMAIN = "gan"
KEY = "lang"  # the URL's query parameter, and the session state's language (kept across pages, unlike a widget's)
SWITCH = "lang_switch"  # the sidebar switch's key


@cache
def catalog(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALES, languages=[language], fallback=True)


def language() -> str:
    """The running browser session's language; English outside a session (without importing Streamlit)."""
    if "streamlit" not in sys.modules:
        return DEFAULT
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return DEFAULT
    try:  # one lookup: `in` on the session state is a whole lookup of its own, and every `_` comes here
        chosen = ctx.session_state[KEY]
    except KeyError:
        return DEFAULT
    return chosen if chosen in LANGUAGES else DEFAULT


def _(message: str) -> str:
    return catalog(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalog(language()).ngettext(singular, plural, n)


def number(n: float) -> str:
    """A whole number with the language's digit grouping: 26,017 in English, 26 017 in Russian (where a comma
    would read as a decimal point; decimals keep their point in both)."""
    grouped = f"{round(n):,}"
    return grouped.replace(",", "\u202f") if language() == "ru" else grouped


def N_(message: str) -> str:
    """Marks a string for the catalog where it is defined; `_` translates it where it is shown."""
    return message


def browser_language(locale: str | None) -> str:
    """'ru-RU' -> 'ru'; a language we do not have -> English."""
    code = (locale or "").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT


def choose_language() -> str:
    """The session's language, kept in the URL's `?lang=`: on the session's first run the URL's, else the
    browser's; afterwards the session's own (the switch changes it). Call it before anything is translated.

    Once chosen, the session's choice wins over the URL: a rerun can carry the URL as it was before the switch
    (the browser had not yet heard of the new `?lang=`, and a live fragment asked for an update), and that stale
    parameter must not switch the language back. A link handed out opens a new session, where the URL chooses.
    """
    import streamlit as st

    state = st.session_state
    if state.get(KEY) not in LANGUAGES:
        asked = st.query_params.get(KEY)
        state[KEY] = asked if asked in LANGUAGES else browser_language(st.context.locale)
    if st.query_params.get(KEY) != state[KEY]:  # a page link or the home URL came without it, or a stale one
        st.query_params[KEY] = state[KEY]
    return state[KEY]


def language_switch() -> None:
    """The switch between the languages, where it is called (the sidebar): it keeps the session's state."""
    import streamlit as st

    st.session_state[SWITCH] = st.session_state[KEY]
    st.segmented_control("Language · Язык", list(LANGUAGES), format_func=LANGUAGES.get, key=SWITCH, required=True,
                         on_change=switch_language)


def switch_language() -> None:
    import streamlit as st

    st.session_state[KEY] = st.query_params[KEY] = st.session_state[SWITCH]
