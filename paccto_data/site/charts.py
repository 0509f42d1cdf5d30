"""SVG charts written with plain Python: the same data always gives the same bytes.

Three kinds, enough for the catalogue page (paccto_data/site/charts.yaml declares its charts,
chart_specs.py draws them with these): `line_chart` (series over years), `bar_chart`
(horizontal bars, optionally with an interval per bar, negative values to the left of zero)
and `heatmap` (counts in a grid).
Every chart has a visible title, axes with ticks and labels, a legend where there is more
than one series, a source line at the bottom, and an SVG <title>/<desc> for screen readers.
Nothing depends on the clock, the locale or the fonts installed: numbers are formatted
with fixed rules, coordinates rounded to 0.1 px, and text widths estimated from character
counts (`text_width`), so a rebuild from the same data writes the same bytes. No scripts,
no external references: a browser opens the file from disk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
INK = "#222222"  # text, axes and whiskers
MUTED = "#666666"
GRID = "#dddddd"
TITLE_SIZE = 16
LABEL_SIZE = 12
SMALL_SIZE = 11


@dataclass(frozen=True)
class Series:
    label: str
    points: tuple[tuple[float, float], ...]  # (x, y), sorted by x; gaps are left out
    dashed: bool = False


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    low: float | None = None  # an interval around the value (e.g. a confidence band)
    high: float | None = None
    value_text: str | None = None  # what to print beside the bar (default: the value)


@dataclass(frozen=True)
class Text:
    """What a chart says, apart from its data."""

    title: str
    source: str  # "Source: …" line(s) at the bottom
    x_label: str = ""
    y_label: str = ""
    note: str = ""  # how the numbers were made, above the source
    description: str = ""  # for screen readers (<desc>)
    legend_title: str = ""


@dataclass
class _Svg:
    width: int
    height: int
    parts: list[str] = field(default_factory=list)

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, text: str, size: int = LABEL_SIZE, anchor: str = "start",
             fill: str = INK, weight: str | None = None, rotate: bool = False,
             css: str | None = None) -> None:
        attributes = [f'x="{_n(x)}"', f'y="{_n(y)}"', f'font-size="{size}"']
        if anchor != "start":
            attributes.append(f'text-anchor="{anchor}"')
        if fill != INK:
            attributes.append(f'fill="{fill}"')
        if weight:
            attributes.append(f'font-weight="{weight}"')
        if rotate:
            attributes.append(f'transform="rotate(-90 {_n(x)} {_n(y)})"')
        if css:
            attributes.append(f'class="{css}"')
        self.add(f"<text {' '.join(attributes)}>{escape(text)}</text>")

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = INK,
             width: float = 1, dash: str | None = None) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
                 f'stroke="{stroke}" stroke-width="{_n(width)}"{extra}/>')

    def rect(self, x: float, y: float, w: float, h: float, fill: str,
             title: str | None = None) -> None:
        shape = (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" '
                 f'height="{_n(max(h, 0))}" fill="{fill}"')
        self.add(f"{shape}><title>{escape(title)}</title></rect>" if title else f"{shape}/>")

    def document(self, text: Text) -> str:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
                f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" '
                f'role="img" aria-labelledby="chart-title chart-desc" '
                f'font-family="{FONT}" fill="{INK}">')
        return "\n".join([
            head,
            f'<title id="chart-title">{escape(text.title)}</title>',
            f'<desc id="chart-desc">{escape(text.description or text.note or text.title)}'
            "</desc>",
            f'<rect x="0" y="0" width="{self.width}" height="{self.height}" fill="#ffffff"/>',
            *self.parts,
            "</svg>",
        ]) + "\n"


# --- numbers and text -----------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate: rounded to 0.1 px, without a trailing .0."""
    text = f"{round(value, 1):.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def nice_step(span: float, target: int = 5) -> float:
    """A 1-2-5 step that cuts `span` into about `target` intervals."""
    if span <= 0:
        return 1.0
    raw = span / target
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * magnitude:
            return multiple * magnitude
    return 10 * magnitude


def ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values covering [low, high] (both included in the range they span)."""
    if high < low:
        low, high = high, low
    if high == low:
        high = low + 1
    step = nice_step(high - low, target)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    count = int(round((last - first) / step))
    return [round(first + i * step, 10) for i in range(count + 1)]


def decimals_for(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0


def number(value: float, decimals: int = 0) -> str:
    """Thousands separated by a thin space-free comma, fixed decimals, no '-0'."""
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text


def text_width(text: str, size: int = LABEL_SIZE) -> float:
    """An estimate of the rendered width (sans-serif averages about 0.58 em per glyph)."""
    return len(text) * size * 0.58


def wrap(text: str, width: float, size: int = SMALL_SIZE) -> list[str]:
    """Greedy word wrap to an estimated pixel width."""
    limit = max(10, int(width / (size * 0.58)))
    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) > limit and current:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _footer_lines(text: Text, width: float) -> list[tuple[str, str]]:
    lines = [(line, MUTED) for line in wrap(text.note, width)] if text.note else []
    return lines + [(line, MUTED) for line in wrap(text.source, width)]


def _header(svg: _Svg, text: Text, left: float) -> float:
    """The title (wrapped); returns the y below it."""
    y = 24.0
    for line in wrap(text.title, svg.width - 2 * left, TITLE_SIZE):
        svg.text(left, y, line, TITLE_SIZE, weight="bold", css="chart-title")
        y += TITLE_SIZE + 4
    return y


def _footer(svg: _Svg, lines: list[tuple[str, str]], left: float) -> None:
    y = svg.height - 10 - (len(lines) - 1) * (SMALL_SIZE + 3)
    for line, colour in lines:
        svg.text(left, y, line, SMALL_SIZE, fill=colour, css="chart-source")
        y += SMALL_SIZE + 3


# --- line chart -----------------------------------------------------------------------------


def line_chart(series: Sequence[Series], text: Text, width: int = 760, height: int = 440,
               y_from_zero: bool = True, x_integer: bool = True) -> str:
    """Lines over x (years), one colour per series, a legend on the right."""
    points = [p for s in series for p in s.points]
    if not points:
        raise ValueError(f"line chart {text.title!r}: no points")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    y_ticks = ticks(min(0.0, min(ys)) if y_from_zero else min(ys), max(ys))
    x_ticks = ticks(min(xs), max(xs), 8)
    if x_integer:
        x_ticks = [t for t in x_ticks if float(t).is_integer()]
    y_decimals = decimals_for(y_ticks[1] - y_ticks[0]) if len(y_ticks) > 1 else 0

    legend_width = max(text_width(s.label, LABEL_SIZE) for s in series) + 40
    left, right = 64.0, width - legend_width - 12
    svg = _Svg(width, height)
    top = _header(svg, text, 12) + 14
    footer = _footer_lines(text, width - 24)
    bottom = height - 44 - len(footer) * (SMALL_SIZE + 3)
    x_lo, x_hi = min(x_ticks[0], min(xs)), max(x_ticks[-1], max(xs))
    y_lo, y_hi = y_ticks[0], y_ticks[-1]

    def px(x: float) -> float:
        return left + (x - x_lo) / ((x_hi - x_lo) or 1) * (right - left)

    def py(y: float) -> float:
        return bottom - (y - y_lo) / ((y_hi - y_lo) or 1) * (bottom - top)

    for t in y_ticks:
        svg.line(left, py(t), right, py(t), GRID)
        svg.text(left - 6, py(t) + 4, number(t, y_decimals), SMALL_SIZE, "end")
    svg.line(left, bottom, right, bottom)  # x axis
    svg.line(left, top, left, bottom)  # y axis
    for t in x_ticks:
        svg.line(px(t), bottom, px(t), bottom + 4)
        svg.text(px(t), bottom + 17, str(int(t)) if x_integer else number(t, 1), SMALL_SIZE,
                 "middle")
    if text.x_label:
        svg.text((left + right) / 2, bottom + 34, text.x_label, LABEL_SIZE, "middle",
                 css="axis-label")
    if text.y_label:
        svg.text(16, (top + bottom) / 2, text.y_label, LABEL_SIZE, "middle", rotate=True,
                 css="axis-label")

    for index, s in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        for run in _runs(s.points):
            if len(run) == 1:
                x, y = run[0]
                svg.add(f'<circle cx="{_n(px(x))}" cy="{_n(py(y))}" r="2.5" fill="{colour}"/>')
                continue
            path = " ".join(f"{'M' if i == 0 else 'L'}{_n(px(x))},{_n(py(y))}"
                            for i, (x, y) in enumerate(run))
            svg.add(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        # legend
        ly = top + 8 + index * 20
        svg.line(right + 14, ly, right + 34, ly, colour, 2,
                 "6 4" if s.dashed else None)
        svg.text(right + 40, ly + 4, s.label, LABEL_SIZE, css="legend")
    if text.legend_title:
        svg.text(right + 14, top - 8, text.legend_title, SMALL_SIZE, fill=MUTED)
    _footer(svg, footer, 12)
    return svg.document(text)


def _runs(points: Sequence[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """Consecutive years as one line; a missing year breaks it (no line across a gap)."""
    runs: list[list[tuple[float, float]]] = []
    for x, y in points:
        if runs and x - runs[-1][-1][0] == 1:
            runs[-1].append((x, y))
        else:
            runs.append([(x, y)])
    return runs


# --- bar chart ------------------------------------------------------------------------------


def bar_chart(bars: Sequence[Bar], text: Text, width: int = 760, value_decimals: int = 1,
              colour: str = PALETTE[0]) -> str:
    """Horizontal bars in the given order, with an optional interval (whiskers) per bar."""
    if not bars:
        raise ValueError(f"bar chart {text.title!r}: no bars")
    lows = [min(b.value, b.low if b.low is not None else b.value, 0.0) for b in bars]
    highs = [max(b.value, b.high if b.high is not None else b.value, 0.0) for b in bars]
    x_ticks = ticks(min(lows), max(highs), 6)
    x_decimals = decimals_for(x_ticks[1] - x_ticks[0]) if len(x_ticks) > 1 else 0
    row = 18
    label_width = max(text_width(b.label, LABEL_SIZE) for b in bars) + 16
    value_width = max(text_width(b.value_text or number(b.value, value_decimals), SMALL_SIZE)
                      for b in bars) + 12
    footer_probe = _footer_lines(text, width - 24)
    header_height = 24 + len(wrap(text.title, width - 24, TITLE_SIZE)) * (TITLE_SIZE + 4)
    height = int(header_height + 14 + len(bars) * row + 48
                 + len(footer_probe) * (SMALL_SIZE + 3) + 12)
    svg = _Svg(width, height)
    top = _header(svg, text, 12) + 14
    left, right = 12 + label_width, width - 12 - value_width
    bottom = top + len(bars) * row
    x_lo, x_hi = x_ticks[0], x_ticks[-1]

    def px(x: float) -> float:
        return left + (x - x_lo) / ((x_hi - x_lo) or 1) * (right - left)

    for t in x_ticks:
        svg.line(px(t), top, px(t), bottom, GRID)
        svg.line(px(t), bottom, px(t), bottom + 4)
        svg.text(px(t), bottom + 17, number(t, x_decimals), SMALL_SIZE, "middle")
    svg.line(left, bottom, right, bottom)  # x axis
    svg.line(px(0), top, px(0), bottom)  # zero line, the bars' base
    for i, b in enumerate(bars):
        y = top + i * row
        x0, x1 = sorted((px(0), px(b.value)))
        svg.rect(x0, y + 3, x1 - x0, row - 6, colour,
                 title=f"{b.label}: {b.value_text or number(b.value, value_decimals)}")
        if b.low is not None and b.high is not None:
            mid = y + row / 2
            svg.line(px(b.low), mid, px(b.high), mid, INK, 1)
            svg.line(px(b.low), mid - 4, px(b.low), mid + 4, INK, 1)
            svg.line(px(b.high), mid - 4, px(b.high), mid + 4, INK, 1)
        svg.text(left - 8, y + row / 2 + 4, b.label, LABEL_SIZE, "end", css="bar-label")
        end = max(px(b.value), px(b.high) if b.high is not None else px(b.value))
        svg.text(max(end, px(0)) + 5, y + row / 2 + 4,
                 b.value_text or number(b.value, value_decimals), SMALL_SIZE, fill=MUTED)
    if text.x_label:
        svg.text((left + right) / 2, bottom + 34, text.x_label, LABEL_SIZE, "middle",
                 css="axis-label")
    if text.y_label:
        svg.text(12, top - 6, text.y_label, SMALL_SIZE, fill=MUTED, css="axis-label")
    _footer(svg, footer_probe, 12)
    return svg.document(text)


# --- heatmap --------------------------------------------------------------------------------


def heatmap(rows: Sequence[str], columns: Sequence[str], values: dict[tuple[str, str], int],
            text: Text, width: int = 760, colour: tuple[int, int, int] = (0, 114, 178)) -> str:
    """A grid of counts: one row per label, one column per category (years); the shade and
    the printed number give the count, an empty cell is 0."""
    if not rows or not columns:
        raise ValueError(f"heatmap {text.title!r}: no rows or columns")
    label_width = max(text_width(r, LABEL_SIZE) for r in rows) + 16
    left = 12 + label_width
    cell_w = min(44.0, (width - left - 24) / len(columns))
    cell_h = 18
    high = max(values.values(), default=0) or 1
    footer = _footer_lines(text, width - 24)
    header_height = 24 + len(wrap(text.title, width - 24, TITLE_SIZE)) * (TITLE_SIZE + 4)
    legend_height = 30
    height = int(header_height + 14 + 20 + len(rows) * cell_h + 40 + legend_height
                 + len(footer) * (SMALL_SIZE + 3) + 12)
    svg = _Svg(width, height)
    top = _header(svg, text, 12) + 14 + 20
    for j, column in enumerate(columns):
        svg.text(left + (j + 0.5) * cell_w, top - 6, column, SMALL_SIZE, "middle")
    for i, row_label in enumerate(rows):
        y = top + i * cell_h
        svg.text(left - 8, y + cell_h / 2 + 4, row_label, LABEL_SIZE, "end", css="row-label")
        for j, column in enumerate(columns):
            count = values.get((row_label, column), 0)
            x = left + j * cell_w
            svg.rect(x + 1, y + 1, cell_w - 2, cell_h - 2, _shade(count / high, colour)
                     if count else "#f4f4f4", title=f"{row_label}, {column}: {count}")
            if count:
                svg.text(x + cell_w / 2, y + cell_h / 2 + 4, str(count), SMALL_SIZE, "middle",
                         fill="#ffffff" if count / high > 0.5 else INK)
    bottom = top + len(rows) * cell_h
    right = left + len(columns) * cell_w
    svg.line(left, bottom + 2, right, bottom + 2)  # x axis (the years)
    if text.x_label:
        svg.text((left + right) / 2, bottom + 20, text.x_label, LABEL_SIZE, "middle",
                 css="axis-label")
    if text.y_label:
        svg.text(12, top - 6, text.y_label, SMALL_SIZE, fill=MUTED, css="axis-label")
    # legend: the shades of 1 .. high
    legend_y = bottom + 32
    steps = sorted({1, max(1, high // 2), high})
    x = left
    for count in steps:
        svg.rect(x, legend_y, 18, 12, _shade(count / high, colour))
        svg.text(x + 22, legend_y + 10, str(count), SMALL_SIZE)
        x += 22 + text_width(str(count), SMALL_SIZE) + 14
    if text.legend_title:
        svg.text(x + 4, legend_y + 10, text.legend_title, SMALL_SIZE, fill=MUTED)
    _footer(svg, footer, 12)
    return svg.document(text)


def _shade(fraction: float, colour: tuple[int, int, int]) -> str:
    """From a pale tint (small counts) to the full colour (the largest)."""
    fraction = 0.25 + 0.75 * max(0.0, min(1.0, fraction))
    r, g, b = (round(255 - (255 - c) * fraction) for c in colour)
    return f"#{r:02x}{g:02x}{b:02x}"
