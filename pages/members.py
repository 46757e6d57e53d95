"""Members: who may sign in as a member, with which role, for which organisations (administrators only)."""

import pandas as pd
import streamlit as st

from dashboard import members, schema, ui
from dashboard.access import may_manage_members
from loaders import service
from loaders.errors import WpmiError

ui.through_router()  # a deep link after a restart: the router opens this page
st.title("Members")
ui.sign_in_controls()  # the mode, and for a non-member whom to ask, before anything is refused
st.caption("Who may sign in as a member of wpmi, with which role, for which organisations.")
viewer = ui.access()
if not may_manage_members(viewer):
    st.info("Only a wpmi administrator may see and change the member registry.")
    st.stop()
ui.require_schema()
ui.synthetic_banner()  # partner names in the registry are the demo's when the database holds the demo

with ui.engine().connect() as conn:
    registry = members.list_members(conn)
    options = ui.query("filter_options")
ui.dataframe(pd.DataFrame(registry), hide_index=True)

with st.form("add_member"):
    st.markdown("**Add a member** (the e-mail they sign in with; their identity provider must verify it)")
    email = st.text_input("E-mail", key="mem_email")
    role = st.selectbox("Role", schema.ROLES, format_func=schema.ROLE_LABELS.get, key="mem_role")
    partners = st.multiselect("Partners (partner users)", options["partners"]["partner_name"].tolist(), key="mem_pa")
    primes = st.multiselect("Primes (prime users)", options["primes"]["prime_name"].tolist(), key="mem_pr")
    if st.form_submit_button("Add") and email:
        try:
            added_role, added = service.add_member(
                ui.engine(), email, access=viewer, role=role, partners=partners, primes=primes
            )
        except (service.NotAuthorised, WpmiError, ValueError) as exc:
            st.error(ui.md_escape(exc))
        else:
            ui.clear_caches()
            st.success(ui.md_escape(f"{email} is a {added_role} member ({added} row(s) added)."))

with st.form("remove_member"):
    st.markdown("**Remove a member** (they see public figures from their next page)")
    gone = st.text_input("E-mail", key="mem_remove")
    if st.form_submit_button("Remove") and gone:
        try:
            removed = service.remove_member(ui.engine(), gone, access=viewer)
        except (service.NotAuthorised, ValueError) as exc:
            st.error(ui.md_escape(exc))
        else:
            ui.clear_caches()
            st.success(ui.md_escape(f"Removed {gone} ({removed} registry row(s))."))
