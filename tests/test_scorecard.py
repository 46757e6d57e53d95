"""The partner scorecard (issue 14, item 3): one partner organisation across its contracts, every figure with its
n and comparator, through the publication boundary; and its PDF, opened and read back."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from dashboard import queries, scorecard
from dashboard.access import Access
from dashboard.db import make_engine
from dashboard.publication import Policy, publish_table
from dashboard.scorecard_pdf import scorecard_pdf


@pytest.fixture(scope="module")
def query(demo_db):
    engine = make_engine(demo_db)

    def run(name, filters=None, **kwargs):
        return getattr(queries, name)(engine, *((filters,) if filters is not None else ()), **kwargs)

    return run


def card_for(query, mode: str, index: int = 3):
    policy = Policy.for_access(Access(mode), environ={})
    partner_id = int(query("filter_options")["partners"]["partner_id"].iloc[index])
    card = scorecard.build(
        query,
        partner_id,
        as_of=query("latest_month"),
        publish=lambda raw, **spec: publish_table(raw, policy=policy, **spec),
        policy=policy,
    )
    assert card is not None
    return card


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), " ".join(page.extract_text() for page in reader.pages)


def test_the_scorecard_gives_each_rate_with_n_its_comparator_and_verdicts_at_95_and_99_8(query):
    card = card_for(query, "member")
    outcomes = card.outcomes.frame.set_index("unit")
    assert set(outcomes.index) == {"Job outcome rate (12 months)", "Job start rate (12 months)", "Attachment rate"}
    assert outcomes["n"].notna().all() and outcomes["benchmark"].between(0, 1).all()
    verdicts = {"Better", "Similar", "Worse", "Not compared"}
    assert set(outcomes["comparison"]) <= verdicts and set(outcomes["comparison_998"]) <= verdicts
    assert set(outcomes["adjusted_comparison"]) <= verdicts and outcomes["ratio"].notna().any()
    assert card.contracts and card.as_of == query("latest_month")
    # Satisfaction is shown where its responses are: months without responses have no mean and hide nothing.
    assert card.satisfaction["satisfaction_mean"].between(1, 5).any()
    assert set(card.satisfaction["against_minimum"]) <= {"meets", "below", ""}


def test_the_pdf_is_one_or_two_a4_pages_with_every_section_and_the_synthetic_label(query):
    card = card_for(query, "member")
    pages, text = pdf_text(scorecard_pdf(card, synthetic=query("synthetic_note"), mode="member"))
    assert 1 <= pages <= 2
    for words in (card.name, "SYNTHETIC", "Outcomes", "Standards", "Referrals against projections", "satisfaction"):
        assert words in text
    reader = PdfReader(io.BytesIO(scorecard_pdf(card, synthetic=None, mode="member")))
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    assert "SYNTHETIC" not in pdf_text(scorecard_pdf(card, synthetic=None, mode="member"))[1]


def test_the_public_scorecard_pdf_shows_only_published_counts(query):
    card = card_for(query, "public")
    shown = card.outcomes.display()
    _, text = pdf_text(scorecard_pdf(card, synthetic=None, mode="public"))
    for column in ("x", "n"):
        for value in shown[column]:
            assert value == "*" or int(value.replace(",", "")) % 5 == 0  # public: rounded to 5, or hidden
    exact = card_for(query, "member").outcomes.frame
    rounded = card.outcomes.frame
    differs = exact["n"].ne(rounded["n"])
    assert differs.any()  # the demo partner's exact cohort is not a multiple of 5 ...
    for value in exact.loc[differs, "n"]:
        assert f" {int(value)} " not in f" {text} "  # ... and the public PDF never shows it
