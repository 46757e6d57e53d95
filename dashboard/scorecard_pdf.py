"""The partner scorecard as a PDF of one or two A4 pages: the same published tables the page shows, its trend
chart drawn by Altair's own renderer (vl-convert) and laid out with fpdf2.

Only `Published` tables reach the file (their `.display()` text), so the PDF can hold nothing the page would not
show this viewer. Demo data carries the synthetic label at the top of the first page.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import vl_convert
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from dashboard import charts, profile
from dashboard.exports import strip_format_characters
from dashboard.feedback import SATISFACTION_MINIMUM
from dashboard.scorecard import OUTCOME_COLUMNS, Scorecard, outcome_view, trend_lines

# A Unicode font where the system has one (names and places from files are not always Latin-1); else the PDF
# core font, with any character it cannot draw replaced by "?".
UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
OUTCOME_HEADERS = {
    "unit": "Indicator",
    "x": "x",
    "n": "n",
    "rate": "Rate",
    "lower": "95% from",
    "upper": "to",
    "benchmark": "All partners",
    "comparison": "95%",
    "comparison_998": "99.8%",
    "ratio": "Obs/exp (95%)",
    "adjusted_comparison": "Case-mix adj.",
}


class ScorecardPDF(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.unicode = False
        font = next((p for p in UNICODE_FONTS if p.is_file()), None)
        if font is not None:
            self.add_font("body", "", str(font))
            bold = font.with_name("DejaVuSans-Bold.ttf")
            self.add_font("body", "B", str(bold if bold.is_file() else font))
            self.unicode = True
        self.family_name = "body" if self.unicode else "helvetica"
        self.set_auto_page_break(auto=True, margin=14)
        self.set_margins(12, 12, 12)

    def text_of(self, value) -> str:
        text = strip_format_characters(
            "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
        )
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def footer(self):
        self.set_y(-11)
        self.set_font(self.family_name, "", 7)
        self.cell(0, 5, self.text_of(f"{self.footer_text}  |  page {self.page_no()}"), align="C")

    def heading(self, text: str) -> None:
        self.set_font(self.family_name, "B", 10.5)
        self.cell(0, 6.5, self.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def line_of_text(self, text: str, size: float = 8) -> None:
        self.set_font(self.family_name, "", size)
        self.multi_cell(0, 4, self.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(self, frame: pd.DataFrame, headers: dict[str, str], widths: list[float]) -> None:
        self.set_font(self.family_name, "", 7.2)
        with self.table(col_widths=widths, text_align="LEFT", line_height=4.2, first_row_as_headings=True) as t:
            t.row([self.text_of(headers.get(c, c)) for c in frame.columns])
            for values in frame.itertuples(index=False):
                t.row([self.text_of(v) for v in values])
        self.ln(1.5)


def _chart_png(chart) -> bytes:
    return vl_convert.vegalite_to_png(chart.to_json(), scale=2)


def scorecard_pdf(card: Scorecard, *, synthetic: str | None, mode: str) -> bytes:
    """The scorecard as PDF bytes."""
    pdf = ScorecardPDF(f"wpmi partner scorecard: {card.name}, as of {card.as_of:%B %Y}, {mode} view")
    pdf.add_page()
    if synthetic:
        pdf.set_text_color(170, 0, 0)
        pdf.line_of_text(synthetic if "SYNTHETIC" in synthetic.upper() else f"SYNTHETIC DEMO DATA: {synthetic}", 8.5)
        pdf.set_text_color(0, 0, 0)
    pdf.set_font(pdf.family_name, "B", 14)
    pdf.cell(0, 8, pdf.text_of(f"Partner scorecard: {card.name}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.line_of_text(
        f"{card.sector}, {card.tier}. Contracts: {', '.join(card.contracts) or 'none'}. Data as of "
        f"{card.as_of:%B %Y}; {mode} view. Rates are mature referral cohorts pooled over the partner's contracts, "
        f"against every partner in every CPA; units with n < {card.min_n} are not compared."
    )
    pdf.ln(1)
    pdf.heading("Outcomes: raw and case-mix adjusted, against all partners")
    if card.outcomes is not None:
        shown = outcome_view(card.outcomes)
        decimals = max(card.outcomes.policy.rate_decimals - 2, 0)
        shown["benchmark"] = [f"{b:.{decimals}%}" if pd.notna(b) else "" for b in shown["benchmark"]]
        shown["ratio"] = [
            f"{r:.2f} ({lo:.2f}-{hi:.2f})" if pd.notna(r) else ""
            for r, lo, hi in zip(shown["ratio"], shown["ratio_lower"], shown["ratio_upper"])
        ]
        columns = [c for c in OUTCOME_COLUMNS if c in shown and c not in ("expected", "ratio_lower", "ratio_upper")]
        pdf.grid(shown[columns], OUTCOME_HEADERS, [36, 11, 12, 12, 12, 12, 15, 14, 14, 25, 22])
    else:
        pdf.line_of_text("No mature participant-level cohorts (aggregate returns have flow measures only).")
    if card.spine is not None:
        spine = charts.spine_chart(profile.spine_rows(card.spine)).properties(width=520)
        pdf.image(io.BytesIO(_chart_png(spine)), w=175)
    pdf.heading("Standards: each prime's minimum service levels")
    if card.standards is not None and len(card.standard_status):
        shown = card.standards.display()
        rows = pd.DataFrame(
            {
                "stage": shown["stage_label"],
                "standard": shown["title"],
                "met": shown["met"],
                "n": shown["n"],
                "share": shown["share"],
                "target": [f"{t:.0%}" if pd.notna(t) else "" for t in card.standard_status["target_share"]],
                "verdict": card.standard_status["status"],
            }
        )
        pdf.grid(rows, {}, [30, 66, 12, 12, 14, 14, 38])
    else:
        pdf.line_of_text("No measurable standard has been evaluated for this partner.")
    pdf.heading("Referrals against projections (per contract)")
    if card.referrals is not None:
        shown = card.referrals.display().loc[card.referral_status.index]
        rows = shown[["unit", "actual", "projected"]].assign(
            variance=["" if pd.isna(v) else f"{v:+.0%}" for v in card.referral_status["variance_pct"]],
            status=card.referral_status["status"],
        )
        pdf.grid(rows, {}, [60, 22, 22, 22, 60])
    else:
        pdf.line_of_text("No projections have been loaded for this partner.")
    pdf.heading(f"Complaints and satisfaction (minimum {SATISFACTION_MINIMUM:.0f} out of 5)")
    if card.feedback is not None:
        shown = card.feedback.display()
        rows = shown[["unit", "participants", "complaints", "complaint_rate", "resolved_share", "responses"]].assign(
            satisfaction=[
                "" if pd.isna(m) else f"{m:.1f} ({v})"
                for m, v in zip(card.satisfaction["satisfaction_mean"], card.satisfaction["against_minimum"])
            ]
        )
        headers = {"complaint_rate": "per participant", "resolved_share": "resolved in time"}
        pdf.grid(rows, headers, [50, 22, 20, 24, 24, 20, 26])
    else:
        pdf.line_of_text("No feedback returns for this partner.")
    lines = trend_lines(card)
    pdf.heading("Trend (quarters whose cohorts reach the minimum n)")
    if len(lines):
        png = _chart_png(charts.trend_chart(lines, rate_label="Rate").properties(width=520, height=170))
        pdf.image(io.BytesIO(png), w=180)
    else:
        pdf.line_of_text(f"No quarter's cohort reaches n = {card.min_n}: no trend is drawn.")
    return bytes(pdf.output())
