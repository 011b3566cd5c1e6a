"""GAN lab: `streamlit run app.py`. Every page, in the browser session's language; the lessons are in pages/."""
import streamlit as st

from gan.i18n import N_, _, choose_language

PAGES = [  # script, title, URL path (None: the home page, at /)
    ("pages/0_Home.py", N_("GAN lab"), None),
    ("pages/1_Basis_transforms.py", N_("Basis transforms"), "Basis_transforms"),
    ("pages/2_Weight_recovery.py", N_("Weight recovery"), "Weight_recovery"),
    ("pages/3_Faces.py", N_("Faces"), "Faces"),
    ("pages/4_Experiments.py", N_("Experiments"), "Experiments"),
]

st.set_page_config(page_icon="🎛️", layout="wide")
choose_language()
st.navigation([st.Page(script, title=_(title), url_path=path, default=path is None)
               for script, title, path in PAGES]).run()
