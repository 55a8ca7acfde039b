"""The report as one picture a head of school reads on a phone: 1080 x 1350 px, portrait.

A phone shows the picture about 400 px wide, so every text is at least 26 px here (about 10 px
on the phone) and there are at most ``MAX_LINES`` lines of bars: the lines least complete, since
those are the ones to chase; the workbook has them all. Each line is its label above two bars,
% complete and % confirmed, with the figures in a column at the right.

Drawn with matplotlib's Agg canvas directly (no pyplot: no global figure state, safe in a bot
process). Text is set in the DejaVu Sans shipped in ``bot/fonts`` (it has every Vietnamese
letter), so the picture is the same on a machine without fonts; a missing glyph would be a
matplotlib warning, which the tests turn into an error.
"""

from __future__ import annotations

import textwrap
from importlib.resources import as_file, files
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle

from flows.report import ReportSummary, RowSummary, percent_text

WIDTH, HEIGHT, DPI = 1080, 1350, 100
MAX_LINES = 10
MARGIN = 54
TRACK_END = 860
COMPLETE_COLOUR, CONFIRMED_COLOUR = "#2e7d32", "#1565c0"
TRACK_COLOUR, MUTED = "#e6e6e6", "#555555"
COMPLETE_LABEL, CONFIRMED_LABEL = "Đủ thông tin", "Đã xác nhận"
TITLE = "Tiến độ cập nhật hồ sơ"


def _pt(px: float) -> float:
    """Font sizes are in points; the layout is in pixels at ``DPI``."""
    return px * 72 / DPI


def chart_lines(summary: ReportSummary) -> tuple[list[RowSummary], int]:
    """The lines to draw (least complete first, ties in report order) and how many exist."""
    lines = [row for row in summary.rows if row.tally.records]
    ranked = sorted(
        enumerate(lines), key=lambda item: (item[1].tally.share(item[1].tally.complete), item[0])
    )
    shown = [row for _, row in ranked[:MAX_LINES]] if len(lines) > MAX_LINES else lines
    return shown, len(lines)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Canvas:
    """A figure whose one axes is measured in pixels from the top left corner."""

    def __init__(self, font: Path, bold: Path) -> None:
        self.figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, facecolor="white")
        FigureCanvasAgg(self.figure)
        self.ax = self.figure.add_axes((0, 0, 1, 1))
        self.ax.set_xlim(0, WIDTH)
        self.ax.set_ylim(HEIGHT, 0)
        self.ax.set_axis_off()
        self._font, self._bold = font, bold

    def text(
        self, x: float, y: float, text: str, px: float, *, bold: bool = False,
        colour: str = "black", align: str = "left", middle: bool = False,
    ) -> None:  # fmt: skip
        """``text`` with its top (or, ``middle``, its centre) at ``y``."""
        font = FontProperties(fname=self._bold if bold else self._font, size=_pt(px))
        va = "center" if middle else "top"
        self.ax.text(x, y, text, fontproperties=font, color=colour, ha=align, va=va)

    def box(self, x: float, y: float, width: float, height: float, colour: str) -> None:
        self.ax.add_patch(Rectangle((x, y), width, height, facecolor=colour, edgecolor="none"))


def _header(canvas: _Canvas, summary: ReportSummary) -> float:
    """Title, unit, date and totals, legend; returns where the bars may start."""
    canvas.text(MARGIN, 30, TITLE, 46, bold=True)
    y = 96.0
    for line in textwrap.wrap(summary.title, 44)[:2]:
        canvas.text(MARGIN, y, line, 34)
        y += 44
    total = summary.total
    when = f"Ngày {summary.day:%d/%m/%Y} · {total.records} hồ sơ"
    canvas.text(MARGIN, y + 2, when, 28, colour=MUTED)
    figures = (
        f"Đủ {percent_text(total.share(total.complete))} · "
        f"Xác nhận {percent_text(total.share(total.confirmed))} · "
        f"14+ chưa CCCD/VNeID: {total.police}"
    )
    canvas.text(MARGIN, y + 44, figures, 30, bold=True)
    y += 104
    x = float(MARGIN)
    for label, colour in ((COMPLETE_LABEL, COMPLETE_COLOUR), (CONFIRMED_LABEL, CONFIRMED_COLOUR)):
        canvas.box(x, y, 32, 32, colour)
        canvas.text(x + 44, y, label, 28)
        x += 360
    return y + 60


def _bars(canvas: _Canvas, lines: list[RowSummary], top: float, bottom: float) -> None:
    """Per line: its label (40 px), then the two bars with their figures at the right."""
    slot = min(130.0, (bottom - top) / max(1, len(lines)))
    bar = min(30.0, (slot - 40 - 10 - 6) / 2)
    width = TRACK_END - MARGIN
    for i, row in enumerate(lines):
        y = top + i * slot
        tally = row.tally
        canvas.text(MARGIN, y, _short(f"{row.label} · {tally.records} hồ sơ", 46), 30)
        for j, (part, colour) in enumerate(
            ((tally.complete, COMPLETE_COLOUR), (tally.confirmed, CONFIRMED_COLOUR))
        ):
            share = tally.share(part)
            top_of_bar = y + 40 + j * (bar + 6)
            canvas.box(MARGIN, top_of_bar, width, bar, TRACK_COLOUR)
            canvas.box(MARGIN, top_of_bar, width * share / 100, bar, colour)
            canvas.text(
                WIDTH - MARGIN, top_of_bar + bar / 2, percent_text(share), 24, bold=True,
                colour=colour, align="right", middle=True,
            )  # fmt: skip


def render_chart(summary: ReportSummary, path: Path) -> None:
    """Draw the chart of ``summary`` into ``path`` (PNG), replacing it only when complete."""
    fonts = files("bot").joinpath("fonts")
    with (
        as_file(fonts.joinpath("DejaVuSans.ttf")) as font,
        as_file(fonts.joinpath("DejaVuSans-Bold.ttf")) as bold,
    ):
        canvas = _Canvas(font, bold)
        top = _header(canvas, summary)
        lines, count = chart_lines(summary)
        footer = HEIGHT - 64
        if not lines:
            canvas.text(MARGIN, top, "Chưa có hồ sơ nào.", 32)
        _bars(canvas, lines, top, footer)
        if count > len(lines):
            note = f"{len(lines)}/{count} đơn vị có tỉ lệ đủ thấp nhất; tất cả có trong tệp Excel."
            canvas.text(MARGIN, footer + 14, note, 26, colour=MUTED)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            canvas.figure.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
