"""What every page of the app starts with: the session's language, the browser tab's title, and the sidebar's
links to the pages (in that language) above the language switch.

Streamlit would list pages/ in the sidebar by file name, in English; .streamlit/config.toml turns that list
off (client.showSidebarNavigation) and `open_page` draws it translated instead.
"""
from __future__ import annotations

import streamlit as st

from gan.i18n import KEY, N_, _, choose_language, language_switch

PAGES = [  # script, title in the sidebar
    ("app.py", N_("GAN lab")),
    ("pages/1_Basis_transforms.py", N_("Basis transforms")),
    ("pages/2_Weight_recovery.py", N_("Weight recovery")),
    ("pages/3_Faces.py", N_("Faces")),
    ("pages/4_Experiments.py", N_("Experiments")),
]


def open_page(title: str) -> None:
    """Start a page whose English title is `title` (marked with N_ where it is written)."""
    language = choose_language()
    st.set_page_config(page_title=f"{_(title)} · {_('GAN lab')}", page_icon="🎛️", layout="wide")
    with st.sidebar:
        for script, name in PAGES:
            st.page_link(script, label=_(name), query_params={KEY: language})
        language_switch()
        st.divider()
