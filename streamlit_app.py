"""wpmi dashboard: the router. Every page is registered here explicitly; the logic lives in `dashboard/`."""

import streamlit as st

APP_TITLE = "wpmi: Work Programme MI"
st.set_page_config(page_title=APP_TITLE, page_icon=":material/monitoring:", layout="wide")

PAGES = {
    "Programme": [
        st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
        st.Page("pages/benchmarks.py", title="Benchmarks", icon=":material/leaderboard:"),
        st.Page("pages/referrals.py", title="Referrals vs projections", icon=":material/move_to_inbox:"),
        st.Page("pages/standards.py", title="Standards compliance", icon=":material/task_alt:"),
        st.Page("pages/feedback.py", title="Feedback", icon=":material/reviews:"),
    ],
    "Views by user": [
        st.Page("pages/supply_chain.py", title="Supply chain", icon=":material/account_tree:"),
        st.Page("pages/partner.py", title="Partner profile", icon=":material/badge:"),
        st.Page("pages/scorecard.py", title="Partner scorecard", icon=":material/summarize:"),
        st.Page("pages/risk.py", title="Contract risk", icon=":material/warning:"),
    ],
    "Data": [
        st.Page("pages/data.py", title="Data", icon=":material/folder_open:"),
        st.Page("pages/members.py", title="Members", icon=":material/group:"),
    ],
}

from dashboard.access import may_manage_members  # noqa: E402  (after set_page_config, as Streamlit requires)
from dashboard.ui import access  # noqa: E402

viewer = access()
if not may_manage_members(viewer):
    PAGES["Data"] = [p for p in PAGES["Data"] if p.title != "Members"]  # administrators only
if not viewer.can_upload:
    PAGES.pop("Data")  # public mode, analysts: no uploads, no submission details

# Streamlit 1.6x draws no focus indicator on the page links or the main area (which Tab reaches, to scroll it), and
# only a faint tint on the buttons over a table or chart (search, download, full screen): a keyboard user could not
# see where they are (WCAG 2.4.7). An outline in the theme's primary colour (8:1 on white) on each: !important, as
# Streamlit's own rules (outline: none) are added to the page after this one, with the same specificity.
FOCUS_OUTLINE = f"outline: 3px solid {st.get_option('theme.primaryColor')} !important; outline-offset: -3px;"
UNMARKED = ('[data-testid="stSidebarNavLink"]', '[data-testid="stMain"]', '[data-testid="stBaseButton-elementToolbar"]')
st.html("<style>" + "".join(f"{selector}:focus-visible {{ {FOCUS_OUTLINE} }}" for selector in UNMARKED) + "</style>")
# One flat list: with sections, Streamlit 1.6x nests each section's <li> items in a <div> inside the navigation's
# <ul>, which screen readers cannot announce as a list (WCAG 1.3.1; axe-core's "list" and "listitem" rules). The
# section names stay in this file as the order of the pages.
current = st.navigation([page for section in PAGES.values() for page in section])
# Each page its own browser-tab title, the page's name first (WCAG 2.4.2): the one set above names only the app.
st.set_page_config(page_title=f"{current.title} · {APP_TITLE}")
current.run()
