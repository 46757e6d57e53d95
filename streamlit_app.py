"""wpmi dashboard: the router. Every page is registered here explicitly; the logic lives in `dashboard/`."""

import streamlit as st

st.set_page_config(page_title="wpmi: Work Programme MI", page_icon="📊", layout="wide")

PAGES = {
    "Programme": [
        st.Page("pages/overview.py", title="Overview", icon="🏠", default=True),
        st.Page("pages/benchmarks.py", title="Benchmarks", icon="📈"),
        st.Page("pages/referrals.py", title="Referrals vs projections", icon="📥"),
        st.Page("pages/standards.py", title="Standards compliance", icon="✅"),
    ],
    "Views by user": [
        st.Page("pages/supply_chain.py", title="Supply chain", icon="🔗"),
        st.Page("pages/partner.py", title="Partner profile", icon="🏷️"),
        st.Page("pages/risk.py", title="Contract risk", icon="⚠️"),
    ],
    "Data": [
        st.Page("pages/data.py", title="Data", icon="🗂️"),
    ],
}

st.navigation(PAGES).run()
