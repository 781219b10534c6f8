"""Where the gap map's cells go in the SVG: buckets wrap into lines, each line one row per stage.

A bucket's cell is a stack of its states, most urgent on top, each as tall as its share of the
bucket but never thinner than a visible sliver: 2 failures among 500 runs still show, without
painting the whole bucket red. Each cell links somewhere useful: a single run opens its page,
a bucket zooms into its range.
"""

from dataclasses import dataclass

from app.models import Stage
from app.web.gapmap import URGENCY, Cell, GapMap

CELL_W = 20
CELL_H = 16
INNER_H = CELL_H - 2
MIN_SLIVER = 2.5
LINE_GAP = 10
LABEL_W = 130


@dataclass(frozen=True)
class Segment:
    """A band of one state inside a cell: its top (relative to the cell) and height."""

    state: str
    top: float
    height: float


@dataclass(frozen=True)
class SvgCell:
    """One cell: position, most urgent state, its state bands, hover text and link."""

    x: int
    y: int
    state: str
    segments: list[Segment]
    title: str
    href: str


@dataclass(frozen=True)
class SvgLabel:
    """A text label at (x, y); `strong` for the run number starting a line."""

    x: int
    y: int
    text: str
    strong: bool


@dataclass(frozen=True)
class Layout:
    """The whole drawing."""

    width: int
    height: int
    cell_w: int
    cell_h: int
    cells: list[SvgCell]
    labels: list[SvgLabel]


def _title(cell: Cell, stage: Stage) -> str:
    where = f"run {cell.first}" if cell.first == cell.last else f"runs {cell.first}–{cell.last}"
    if cell.first == cell.last:
        return f"{where} · {stage.value}: {cell.state}"
    parts = [f"{cell.counts[state]} {state}" for state in URGENCY if cell.counts.get(state)]
    return f"{where} · {stage.value}: " + ", ".join(parts)


def segments(counts: dict[str, int], height: float = INNER_H) -> list[Segment]:
    """The cell's states stacked most urgent first, heights proportional to their counts,
    each at least MIN_SLIVER tall when they fit (the largest band gives up the difference)."""
    present = [(state, counts[state]) for state in URGENCY if counts.get(state)]
    total = sum(count for _, count in present)
    floor = min(MIN_SLIVER, height / len(present))
    heights = [max(floor, height * count / total) for _, count in present]
    largest = heights.index(max(heights))
    heights[largest] -= sum(heights) - height
    edges = [0.0]
    for band in heights:
        edges.append(round(edges[-1] + band, 2))
    edges[-1] = height
    return [
        Segment(state, edges[i], round(edges[i + 1] - edges[i], 2))
        for i, (state, _) in enumerate(present)
    ]


def _href(cell: Cell, base: str) -> str:
    if cell.first == cell.last:
        return f"/runs/{cell.first}"
    return f"{base}?lo={cell.first}&hi={cell.last}"


def layout(gmap: GapMap, *, per_line: int = 50, base: str = "/gapmap") -> Layout:
    """Lay the cells out `per_line` buckets to a line; bucket cells link into `base`."""
    stages = list(Stage)
    count = len(gmap.cells[stages[0]])
    line_h = CELL_H * len(stages) + LINE_GAP
    cells: list[SvgCell] = []
    labels: list[SvgLabel] = []
    for index in range(count):
        line, column = divmod(index, per_line)
        top = line * line_h
        if column == 0:
            start = gmap.cells[stages[0]][index].first
            labels.append(SvgLabel(0, top + CELL_H - 3, str(start), True))
            for row, stage in enumerate(stages):
                labels.append(SvgLabel(70, top + row * CELL_H + CELL_H - 3, stage.value, False))
        for row, stage in enumerate(stages):
            cell = gmap.cells[stage][index]
            cells.append(
                SvgCell(
                    LABEL_W + column * CELL_W,
                    top + row * CELL_H,
                    cell.state,
                    segments(cell.counts),
                    _title(cell, stage),
                    _href(cell, base),
                )
            )
    lines = -(-count // per_line) if count else 0
    return Layout(
        width=LABEL_W + min(count, per_line) * CELL_W,
        height=max(0, lines * line_h - LINE_GAP),
        cell_w=CELL_W,
        cell_h=CELL_H,
        cells=cells,
        labels=labels,
    )
