"""Streamlit pieces every page shares: the engine, cached queries, URL-bound filters, headers, downloads.

Pages stay thin by calling these; nothing here computes a statistic. Filters are widgets with a `key` and
`bind="query-params"`, so the URL of any view reproduces it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import members, queries, settings
from dashboard.access import OPERATOR, Access, auth_problems, decide
from dashboard.db import get_engine, resolve_url
from dashboard.exports import published_excel_bytes, strip_format_characters, to_csv_bytes
from dashboard.publication import PRIMARY, SECONDARY, Policy, Publish, Published, publish_count, publish_table
from dashboard.queries import Filters
from dashboard.reference import missing_schema
from dashboard.schema import SECTOR_LABELS, SECTORS, TIER_LABELS, TIERS, UNKNOWN

LOAD_COMMAND = "make demo   # synthetic demo data\nwpmi ingest PATH...   # your MI files"
INIT_COMMAND = "wpmi init   # with --db URL or WPMI_DB_URL naming this database"


# -- user text in Markdown ------------------------------------------------------------------------------------
# Streamlit renders Markdown in st.markdown, st.caption, st.title/header/subheader, st.info/warning/error/
# success, st.toast, st.progress text, st.table cells, and in the label and help of every widget, tab, expander
# and metric, and in radio, segmented-control, pills and select-slider options (selectbox and multiselect options
# and st.dataframe cells and column names are plain text). Its Markdown is GitHub-flavoured plus LaTeX ($...$),
# directives (:red[...]), shortcodes (:smile:, :material/icon:, :streamlit:) and bare-URL links. Any name,
# reference or label that came from a file or a person goes into those through md_escape.

# The characters that open Markdown, HTML or Streamlit markup within a line: backslash-escaped (CommonMark lets any
# ASCII punctuation be), each one opens nothing. Links and images need "[", code "`", emphasis "*" or "_",
# strikethrough "~", raw HTML and autolinks "<", entities "&", LaTeX "$", directives (:red[...]) and shortcodes
# (:smile:) ":", tables "|", headings "#". Full stops, commas, brackets, hyphens and the like stay as they are.
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>&~|$:!#])")
# What opens a block only at the start of a line (a list item, a heading underline): escaped there.
_MARKDOWN_LINE_START = re.compile(r"^(\d*)([-+=.)])")
# What Streamlit's renderer still finds once escapes are resolved: bare URLs, www. and e-mail addresses (remark-gfm
# links them), the :streamlit: logo and :material/...: icons (found in the source, escapes or not). A word joiner
# (U+2060, invisible) breaks each pattern.
_FOUND_IN_TEXT = re.compile(r"(?i)https?(?=://)|www(?=\.)|@(?=[-\w])|:streamlit(?=:)|:material(?=/)")
WORD_JOINER = "\u2060"
# Line breaks would let text start a block (a heading, a list, a quote): user text is one line.
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def md_escape(value: object) -> str:
    """User text (a name, a reference, a file or sheet name, a reason) that renders literally as Markdown.

    For any Streamlit element that renders Markdown (see above): every Markdown, HTML and Streamlit markup
    character is backslash-escaped, bare addresses and shortcodes are broken with an invisible word joiner,
    line breaks become spaces (and outer spaces go), and bidi controls and other format characters are dropped
    (as in exports). Where the element allows, prefer one that never reads markup: st.dataframe cells, st.text.
    """
    text = _LINE_BREAKS.sub(" ", strip_format_characters(str(value))).strip()  # "** x **" is no emphasis
    text = _FOUND_IN_TEXT.sub(lambda m: m.group(0) + WORD_JOINER, text)
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    return _MARKDOWN_LINE_START.sub(r"\1\\\2", text)


def db_url() -> str:
    return resolve_url()


@st.cache_resource(show_spinner=False)
def _engine(url: str):
    # No schema DDL here: the dashboard only reads (require_schema says how to create a missing schema).
    return get_engine(url)


def engine():
    """The shared engine for this app's database."""
    return _engine(db_url())


@st.cache_data(ttl=settings.get("cache_ttl_seconds"), show_spinner=False)
def cached(name: str, url: str, filters: Filters | None = None, **kwargs):
    """Run `queries.<name>` once per distinct arguments (cleared after an upload: see clear_caches)."""
    fn = getattr(queries, name)
    args = (filters,) if filters is not None else ()
    return fn(_engine(url), *args, **kwargs)


# Queries whose results must stop at the official-statistics cut-off in public mode, and how.
_CUTOFF_BY_FILTER = {
    "flow_totals",
    "cohort_totals",
    "cohort_series",
    "projections_vs_actuals",
    "feedback_totals",
    "coverage",
}
_CUTOFF_BY_KWARG = {"compliance_cells", "compliance_by_partner"}


def query(name: str, filters: Filters | None = None, **kwargs):
    """A cached query; in public mode clamped to the official-statistics cut-off, whatever the page asked."""
    if access().public:
        cutoff = settings.get("official_cutoff")
        if name in _CUTOFF_BY_FILTER:
            filters = filters or Filters()
            filters = replace(filters, period_to=min(filters.period_to or cutoff, cutoff))
        elif name in _CUTOFF_BY_KWARG:
            kwargs["as_of_limit"] = cutoff
        elif name == "latest_month":
            latest = cached(name, db_url(), None)
            return min(latest, cutoff.replace(day=1)) if latest else latest
    return cached(name, db_url(), filters, **kwargs)


class SignInMisconfigured(RuntimeError):
    """The sign-in configuration cannot be trusted: the app stops rather than guess (fail closed)."""


def _secrets() -> dict:
    """The parsed secrets; {} only when no secrets file exists at all (then sign-in is not configured)."""
    try:
        return st.secrets.to_dict()
    except FileNotFoundError as exc:  # StreamlitSecretNotFoundError: no file, or a file that does not parse
        files = [Path(p) for p in st.get_option("secrets.files") or ()]
        if any(p.exists() for p in files):
            raise SignInMisconfigured(f"The secrets file cannot be read: {exc}") from None
        return {}


def _stop_closed(problem: str) -> None:
    """The error page for a configuration that cannot be trusted: names the problem, shows no data."""
    st.error(f"wpmi is not available: {problem}", icon=":material/lock:")
    st.caption("No data is shown until this is fixed. docs/deploy.md says how to configure sign-in.")
    st.stop()


@st.cache_data(ttl=15, show_spinner=False)
def _registry(url: str, email: str) -> tuple[list, dict]:
    """The registry rows of `email` and, for a prime user, its supply chains (cached briefly: every run asks)."""
    with get_engine(url).connect() as conn:
        entries = members.entries_for(conn, email)
        chains = members.supply_chains(conn, [e.prime_id for e in entries if e.prime_id])
    return entries, chains


def access() -> Access:
    """This viewer's access: the deployment's mode, sign-in if configured, the verified e-mail and the registry.

    Fails closed: a secrets file that does not parse, an incomplete [auth] section, or local mode (no sign-in)
    served beyond this machine stops the page with an error that names the problem.
    """
    try:
        secrets = _secrets()
    except SignInMisconfigured as exc:
        _stop_closed(str(exc))
    auth = secrets.get("auth")
    if auth is not None and (problems := auth_problems(auth)):
        _stop_closed("the [auth] section of the secrets file is incomplete: " + "; ".join(problems) + ".")
    user = st.user.to_dict() if auth else None
    email = str((user or {}).get("email") or "").strip().lower()
    verified = bool(user and user.get("is_logged_in") and user.get("email_verified") is True and email)
    entries, chains = _registry(db_url(), email) if verified else ([], {})
    viewer = decide(
        configured_mode=settings.get("mode"),
        auth_configured=auth is not None,
        user=user,
        registry=entries,
        supply_chains=chains,
        partner_domains=dict(secrets.get("wpmi", {}).get("partner_domains", {})),
        contact=settings.get("member_contact"),
    )
    if viewer.role == OPERATOR and not _served_to_this_machine_only() and not settings.get("local_mode_on_network"):
        _stop_closed(
            f"local mode (no sign-in: every partner's detail) is being served on {_address() or 'every interface'}, "
            "not only on this machine. Configure sign-in, serve on 127.0.0.1 (as `make run` does), or, behind your "
            "own access control, set WPMI_LOCAL_MODE_ON_NETWORK=true."
        )
    return viewer


def _address() -> str:
    return str(st.get_option("server.address") or "")


def _served_to_this_machine_only() -> bool:
    return _address() in ("127.0.0.1", "localhost", "::1")


def actor_name() -> str:
    """Who is acting, for the audit log: the verified identity (or 'local' in a local run)."""
    return access().identity


def sign_in_controls() -> None:
    """Sign in / out buttons when sign-in is configured; in a local run, a note that says what it is."""
    viewer = access()
    if viewer.role == OPERATOR:
        st.sidebar.caption(
            "Local mode, no sign-in: every partner's detail, served to this machine only"
            if _served_to_this_machine_only()
            else "Local mode, no sign-in: every partner's detail (WPMI_LOCAL_MODE_ON_NETWORK is set)"
        )
        return
    if viewer.public and viewer.message:
        st.sidebar.warning(md_escape(viewer.message))
    if "auth" not in _secrets():
        return  # a public deployment without sign-in
    if st.user.get("is_logged_in"):
        st.sidebar.caption(f"Signed in as {md_escape(st.user.get('email', 'member'))} ({viewer.role or 'public'})")
        st.sidebar.button("Sign out", on_click=st.logout, key="logout")
    else:
        st.sidebar.button("Sign in (members)", on_click=st.login, key="login")


def clear_caches() -> None:
    cached.clear()
    _registry.clear()


# Databases already seen with the whole schema: a schema is never dropped under a running app, so once complete
# it is not inspected again on every rerun (two catalogue queries each on PostgreSQL).
_SCHEMA_COMPLETE: set[str] = set()


def require_schema() -> None:
    """Stop the page with the command that creates the schema when this database has none (or an old one)."""
    url = db_url()
    if url in _SCHEMA_COMPLETE:
        return
    missing = missing_schema(engine())
    if not missing:
        _SCHEMA_COMPLETE.add(url)
    else:
        st.info(
            f"This database has no wpmi schema yet ({len(missing)} tables and views missing, e.g. "
            f"`{missing[0]}`). Create it, with the reference data, by running:\n\n```\n{INIT_COMMAND}\n```"
            f"\n\nthen load data with:\n\n```\n{LOAD_COMMAND}\n```"
        )
        st.stop()


def synthetic_banner() -> None:
    """The demo's 'synthetic' label, on every page that shows what the database holds."""
    note = query("synthetic_note")
    if note:
        st.warning(
            f"**{note}.** Organisations are made up; contracts and standards are real.", icon=":material/science:"
        )


def through_router() -> None:
    """Every page runs under streamlit_app.py's router: a page Streamlit started by itself is handed over to it.

    Streamlit 1.6x decides once per server process whether the app is an old-style multipage app, by whether a
    `pages/` folder sits beside the entry script; until the entry script has called `st.navigation`, a deep link
    such as /standards runs pages/standards.py alone, with a menu of raw file names (and "data") and no page
    title. So the first visit after a restart straight to a page would look broken and drop its URL's settings.
    Here the page says the router is in charge and reruns: the rerun runs streamlit_app.py, which opens the page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation itself sets once the router has run
        st.rerun()


def page_header(title: str, question: str) -> date | None:
    """Title, the question the page answers, the synthetic banner and the 'as of' line; stops when empty."""
    through_router()
    st.session_state.pop(FILTERS_SHOWN, None)  # another page's filters never describe this page's downloads
    st.title(title)
    st.caption(question)
    require_schema()
    if not query("has_data"):
        st.info(
            "No MI has been loaded into this database yet. Load data with:\n\n"
            f"```\n{LOAD_COMMAND}\n```\n\nor upload files on the Data page."
        )
        st.stop()
    synthetic_banner()
    sign_in_controls()
    viewer = access()
    as_of = query("latest_month")
    st.caption(
        f"Data as of **{as_of:%B %Y}** (latest month of MI shown) · mode: **{viewer.mode}**"
        + (
            f" · public view: MI up to the official-statistics cut-off, {settings.get('official_cutoff'):%d %B %Y}, "
            f"counts rounded to the nearest {settings.get('rounding_base')}, small numbers suppressed"
            if viewer.public
            else ""
        )
    )
    return as_of


def how_calculated(markdown: str) -> None:
    with st.expander("How this is calculated"):
        st.markdown(markdown)


def url_choice(
    label: str,
    options,
    *,
    key: str,
    format_func=str,
    code=str,
    widget: str = "selectbox",
    where: Any = st,
    **kwargs,
):
    """A selectbox (or segmented_control, radio) whose choice the page's URL holds as a short code, not its label.

    `bind="query-params"` would write the displayed label ("?contract=NCG%2C+CPA+18+%28terminated%29"); here the
    URL holds `code(choice)` ("?contract=CPA18-ncg"), and the default choice is left out. A link naming a choice by its
    label (as links did before) opens the same view; a link naming no option says so and opens the default.
    """
    options = list(options)
    codes = [code(o) for o in options]
    labels = [format_func(o) for o in options]
    default = kwargs.get("default") if widget == "segmented_control" else options[kwargs.get("index", 0) or 0]
    asked = st.query_params.get(key)
    if key not in st.session_state and asked is not None:
        if asked in codes:
            st.session_state[key] = options[codes.index(asked)]
        elif asked in labels:
            st.session_state[key] = options[labels.index(asked)]
        else:
            shown = md_escape(format_func(default)) if default in options else "none"
            # The URL is anyone's text: escaped, as every user-supplied string on a page is.
            where.caption(
                f"The link asked for {label} '{md_escape(asked)}', not one of the choices here: showing {shown}."
            )
    if key in st.session_state:
        kwargs.pop("default", None)  # the URL's choice (or the user's) is the widget's value
        kwargs.pop("index", None)
    value = getattr(where, widget)(label, options, format_func=format_func, key=key, **kwargs)
    if value is None or value == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = code(value)
    return value


def url_choices(label: str, options, *, key: str, format_func=str, where: Any = st, **kwargs) -> list:
    """A multiselect whose choices the URL holds as their codes, comma-separated ("?pg=PG1,PG6"); none chosen, none
    in the URL. A link listing choices by label (one parameter each, as before) opens the same view."""
    options = list(options)
    by_text = {**{format_func(o): o for o in options}, **{str(o): o for o in options}}
    asked = [part for value in st.query_params.get_all(key) for part in value.split(",") if part]
    if key not in st.session_state and asked:
        st.session_state[key] = [by_text[a] for a in asked if a in by_text]
        unknown = [a for a in asked if a not in by_text]
        if unknown:
            listed = ", ".join(f"'{md_escape(u)}'" for u in unknown)
            where.caption(f"The link asked for {label} {listed}, not among the choices here.")
    value = where.multiselect(label, options, format_func=format_func, key=key, **kwargs)
    if value:
        st.query_params[key] = ",".join(map(str, value))
    else:
        st.query_params.pop(key, None)
    return value


def filter_sidebar(
    *, cpa=True, prime=True, sector=True, tier=True, payment_groups=True, period=True, as_of: date | None = None
) -> Filters:
    """The standard filters, bound to the URL; returns the Filters they describe."""
    options = query("filter_options")
    side = st.sidebar
    side.header("Filters")
    kwargs: dict[str, Any] = {}  # Filters fields of several types, passed on as Filters(**kwargs)
    if cpa:
        cpas = options["cpas"]
        labels = {int(r.cpa_code): f"{r.cpa_code}: {r.cpa_name}" for r in cpas.itertuples()}
        kwargs["cpa"] = url_choice(
            "CPA",
            [None, *labels],
            format_func=lambda c: "All CPAs" if c is None else labels[c],
            key="cpa",
            where=side,
        )
    if prime:
        primes = dict(zip(options["primes"]["prime_id"], options["primes"]["prime_name"]))
        kwargs["prime"] = url_choice(
            "Prime",
            [None, *primes],
            format_func=lambda p: "All primes" if p is None else primes[p],
            key="prime",
            where=side,
        )
    if sector:
        kwargs["sector"] = url_choice(
            "Partner sector",
            [None, *(s for s in SECTORS if s != UNKNOWN)],
            format_func=lambda s: "All sectors" if s is None else SECTOR_LABELS[s],
            key="sector",
            where=side,
        )
    if tier:
        kwargs["tier"] = url_choice(
            "Partner tier",
            [None, *(t for t in TIERS if t != UNKNOWN)],
            format_func=lambda t: "All tiers" if t is None else TIER_LABELS[t],
            key="tier",
            where=side,
        )
    if payment_groups:
        groups = dict(zip(options["payment_groups"]["code"], options["payment_groups"]["short_name"]))
        chosen = url_choices(
            "Payment groups",
            list(groups),
            format_func=lambda g: f"{g} {groups[g]}",
            key="pg",
            where=side,
            placeholder="All payment groups",
        )
        kwargs["payment_groups"] = tuple(chosen)
    if period:
        years = list(range(2011, (as_of.year if as_of else 2017) + 1))
        start, end = side.select_slider(
            "Referral / activity years", years, value=(years[0], years[-1]), key="years", bind="query-params"
        )
        kwargs["period_from"], kwargs["period_to"] = date(start, 1, 1), date(end, 12, 31)
    chosen_filters = Filters(**kwargs)
    st.session_state[FILTERS_SHOWN] = chosen_filters.described()  # for the about sheet of this page's downloads
    return chosen_filters


FILTERS_SHOWN = "wpmi_filters_described"


def downloads(shown: Published, name: str, notes: list[str] | None = None) -> None:
    """CSV and Excel downloads of a published table as displayed (formula-injection safe), with the page's notes.

    Only a `Published` is accepted: nothing leaves the server as a file without passing the boundary.
    """
    if not isinstance(shown, Published):
        raise TypeError(f"ui.downloads takes a publication.Published table, not {type(shown).__name__}: publish it")
    frame = shown.display()
    notes = list(notes or [])
    if query("synthetic_note"):
        notes.insert(0, "SYNTHETIC DEMO DATA - not real Work Programme MI")
    latest = query("latest_month")
    policy = shown.policy
    about = [
        ("Table", name),
        ("Filters", st.session_state.get(FILTERS_SHOWN, "none: every CPA, prime, partner, payment group and month")),
        ("Data as of", f"{latest:%B %Y}" if latest else "no data"),
        (
            "Mode",
            f"public: counts rounded to {policy.rounding_base}, 1 to {policy.suppress_max} hidden"
            if policy.public
            else f"{policy.mode}: your organisation's figures exact, others' 1 to {policy.suppress_max} hidden",
        ),
        *[("Note", note) for note in notes],
    ]
    left, right = st.columns(2)
    left.download_button(
        "Download CSV", to_csv_bytes(frame), f"{name}.csv", "text/csv", on_click="ignore", key=f"csv_{name}"
    )
    right.download_button(
        "Download Excel",
        published_excel_bytes(shown, sheet_name=name[:31], about=about),
        f"{name}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        key=f"xlsx_{name}",
    )


def percent(column: str, help: str | None = None):
    return st.column_config.NumberColumn(column, format="percent", help=help)


SUPPRESSION_NOTE = (
    f"`{PRIMARY}` = a small count (1 to {settings.BY_NAME['suppress_max'].default} unless configured otherwise), "
    f"hidden with any rate built on it so no one can be identified; `{SECONDARY}` = hidden so that a `{PRIMARY}` "
    "cannot be worked out from a total."
)


def marks_legend(shown: Published, drawn: pd.DataFrame | None = None) -> str:
    """What the marks and rounding in a published table mean, in words: "" when it shows neither.

    A screen reader reads a `*` cell as "star" (st.dataframe draws its cells on a canvas, with no label per cell), so
    every table that shows a mark says in words, directly below it, what the mark stands for, with this viewer's
    thresholds. `drawn` is the frame as the page draws it (columns chosen or renamed), by default `shown.display()`.
    """
    drawn = shown.display() if drawn is None else drawn
    cells = set(drawn.astype("string").stack().dropna())
    policy = shown.policy
    words = []
    if PRIMARY in cells:
        words.append(
            f"`{PRIMARY}` = suppressed: fewer than {policy.suppress_max + 1} (a count from 1 to {policy.suppress_max}),"
            " hidden with any rate built on it so no one can be identified"
        )
    if SECONDARY in cells:
        words.append(f"`{SECONDARY}` = suppressed so that a `{PRIMARY}` cannot be worked out from a total")
    if policy.rounding_base > 1 and not shown.status.columns.empty:
        words.append(f"counts are rounded to the nearest {policy.rounding_base}")
    if not words:
        return ""
    text = "; ".join(words)
    return f"In this table: {text}."


# Headers a reader sees for the data's own column names, wherever a published table shows them (a page's own
# column_config wins): one home, so "stage_label" or "share_of_contract" never reaches the screen.
COLUMN_LABELS = {
    "unit": "unit",
    "cpa_code": "CPA",
    "cpa_name": "CPA name",
    "contract_id": "contract",
    "partner_id": "partner id",
    "stage_label": "stage",
    "standard_id": "standard id",
    "title": "standard",
    "target_share": "target",
    "not_applicable": "not applicable",
    "share_low": "lower 95%",
    "share_high": "upper 95%",
    "rate_low": "lower 95%",
    "rate_high": "upper 95%",
    "outcome_rate": "outcome rate",
    "share_of_contract": "share of contract",
    "variance_pct": "variance %",
    "not_enough": "not enough data",
    "not_published": "not published",
    "measurable_note": "why not measurable",
    "cpa_scope": "CPAs",
    "outcomes_x": "job outcomes (x)",
    "outcomes_n": "mature cohort (n)",
    "participant_ref": "participant reference",
    "rows_monthly": "monthly rows",
    "rows_participants": "participant rows",
    "rows_projections": "projection rows",
    "rows_feedback": "feedback rows",
    "submission_id": "submission",
}


# Columns holding codes, shown by their labels (the codes stay in downloads and the URL).
VALUE_LABELS = {"sector": SECTOR_LABELS, "tier": TIER_LABELS}
# An interval's bounds, by the suffix of the rate's column: "job_start_rate_low" is "job start rate: lower 95%".
_BOUND_SUFFIXES = (("_low", "lower 95%"), ("_lower", "lower 95%"), ("_high", "upper 95%"), ("_upper", "upper 95%"))


def column_label(name: str) -> str:
    """A column's heading in words: COLUMN_LABELS, an interval bound named after its rate, else the words of the
    code name ("file_name" is "file name"). Every table heading comes from here."""
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    for suffix, words in _BOUND_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return f"{column_label(name[: -len(suffix)])}: {words}"
    return name.replace("_", " ")


def column_labels(columns, given: dict | None = None) -> dict:
    """A column_config naming each column in words (`column_label`); the page's own `given` config on top, its
    heading filled in where it gave none or only the code name."""
    config: dict[str, Any] = {}
    for column in map(str, columns):
        mine = (given or {}).get(column)
        if mine is None:
            if column_label(column) != column:
                config[column] = st.column_config.Column(column_label(column))
        elif isinstance(mine, dict) and mine.get("label") in (None, column):
            config[column] = {**mine, "label": column_label(column)}
        else:
            config[column] = mine
    return {**(given or {}), **config}


def date_format(values: pd.Series) -> str:
    """How a column of datetimes reads: months ("MMM YYYY") when every value is a month's first day, days when
    every value is a midnight, else day and time (Streamlit's DatetimeColumn formats, moment.js style)."""
    known = values.dropna()
    if (known == known.dt.normalize()).all():
        return "MMM YYYY" if (known.dt.day == 1).all() else "D MMM YYYY"
    return "D MMM YYYY, HH:mm"


def _percent_points(frame: pd.DataFrame, config: dict) -> tuple[pd.DataFrame, dict]:
    """Proportions a page marked `percent(...)` shown at the published rates' precision ("94.2%" beside "96.2%"),
    not Streamlit's two-decimal "percent" ("94.20%"): the values become percentage points with a printf format."""
    decimals = max(policy().rate_decimals - 2, 0)
    for column, entry in config.items():
        typed = entry.get("type_config") if isinstance(entry, dict) else None
        if column in frame.columns and typed and typed.get("format") == "percent":
            frame = frame.assign(**{column: pd.to_numeric(frame[column], errors="coerce") * 100})
            config = {**config, column: {**entry, "type_config": {**typed, "format": f"%.{decimals}f%%"}}}
    return frame, config


def dataframe(frame: pd.DataFrame, **dataframe_kwargs) -> None:
    """A table of labels and published figures drawn as it is (no marks to explain), its columns named in words.
    Every page table goes through here or `table`: st.dataframe directly would head its columns in code names."""
    given = dict(dataframe_kwargs.get("column_config") or {})
    frame, given = _percent_points(frame, given)
    coded = [c for c in VALUE_LABELS if c in frame.columns and not pd.api.types.is_numeric_dtype(frame[c])]
    if coded:  # "vcs" and "specialist" are codes: the table says "Voluntary and community (VCS)", "Specialist (tier 2)"
        frame = frame.assign(**{c: frame[c].map(lambda v, c=c: VALUE_LABELS[c].get(v, v)) for c in coded})
    for column in frame.columns:
        if column not in given and pd.api.types.is_datetime64_any_dtype(frame[column]):
            # A month of MI is "Oct 2015" and a day "3 Oct 2015", not "2015-10-01 00:00:00"; a moment keeps its time.
            given[column] = st.column_config.DatetimeColumn(
                column_label(str(column)), format=date_format(frame[column])
            )
    dataframe_kwargs["column_config"] = column_labels(frame.columns, given)
    st.dataframe(frame, **dataframe_kwargs)


def table(shown: Published, drawn: pd.DataFrame | None = None, **dataframe_kwargs) -> None:
    """A published table (or the page's arrangement of it, `drawn`) with what its marks mean in words below it,
    its columns named in words (`column_labels`)."""
    drawn = shown.display() if drawn is None else drawn
    dataframe(drawn, **dataframe_kwargs)
    legend = marks_legend(shown, drawn)
    if legend:
        st.caption(legend)


def chart(figure, summary: str, data: Published | None = None, *, where: Any = st, **table_kwargs) -> None:
    """A chart with its text alternative: the chart, one sentence saying what it shows, and its figures as a table.

    A screen reader gets nothing from the drawing (Vega draws on a canvas), so the sentence (the charts module's
    `*_summary` functions) is printed under it, and `data`, the published figures it draws, in a table in an
    expander (with the legend of its marks). Pass no `data` only where a table on the page already holds the same
    figures, and say so in the sentence. `where` is a column or container (default: the page).
    """
    where.altair_chart(figure, width="stretch")
    where.caption(summary)
    if data is not None:
        with where.expander("The chart's figures as a table"):
            table(data, hide_index=True, **table_kwargs)


def labels_only(frame: pd.DataFrame) -> Published:
    """A table of labels only (names, months, statuses: no counts about people), published as it is."""
    return publish_table(frame, policy=policy(), counts=[], keep=list(frame.columns))


def policy() -> Policy:
    """This viewer's publication policy (dashboard/publication.py): every figure shown passes through it."""
    return Policy.for_access(access())


def publisher() -> Publish:
    """`publication.publish_table` bound to this viewer's policy: what a page hands the module assembling its tables."""
    return functools.partial(publish_table, policy=policy())


def published_count(value, owner=None) -> str:
    """One count as it may be shown to this viewer (a KPI tile), by the publication policy."""
    return publish_count(value, policy(), owner=owner)
