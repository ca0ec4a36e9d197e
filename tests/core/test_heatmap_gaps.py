"""Heatmap cell gaps: small matrices keep a white line between cells; a wide one is drawn without
gaps (Plotly.js then draws one pixel per cell instead of painting and PNG-encoding the whole plot
on every redraw), and the Q/K/V page's wide panels still show one row per word with thin lines."""

import numpy as np

from components.figures.qkv import side_by_side
from components.figures.shared import GAP_MAX_SIDE, cell_gap, heatmap


def labels(n):
    return [str(i) for i in range(n)]


def test_gap_only_while_every_side_is_short():
    assert cell_gap((9, 8)) == 1
    assert cell_gap((GAP_MAX_SIDE, GAP_MAX_SIDE)) == 1
    assert cell_gap((9, GAP_MAX_SIDE + 1)) == 0
    assert cell_gap((GAP_MAX_SIDE + 1, 3)) == 0


def test_plain_heatmap_follows_the_rule():
    small = heatmap(np.zeros((5, 7))).data[0]
    wide = heatmap(np.zeros((5, 300))).data[0]
    assert (small.xgap, small.ygap) == (1, 1)
    assert (wide.xgap, wide.ygap) == (0, 0)


def test_wide_panels_get_one_line_between_every_two_rows():
    rows = 9
    figure = side_by_side([("wide", np.random.default_rng(0).normal(size=(rows, 384)), labels(384)),
                           ("narrow", np.ones((rows, 8)), labels(8))], labels(rows), hover_name="value")
    wide, narrow = figure.data
    assert (wide.xgap, wide.ygap) == (0, 0) and (narrow.xgap, narrow.ygap) == (1, 1)
    lines = [shape for shape in figure.layout.shapes if shape.type == "path"]
    assert len(lines) == 1 and lines[0].xref == wide.xaxis  # only the panel drawn without gaps
    segments = lines[0].path.split("M")[1:]
    assert [float(segment.split(",")[1].split("H")[0]) for segment in segments] == [r + 0.5 for r in range(rows - 1)]
    assert all(segment.endswith("H383.5") for segment in segments)


def test_a_single_row_needs_no_line():
    figure = side_by_side([("wide", np.ones((1, 100)), labels(100))], ["only"], hover_name="value")
    assert not [shape for shape in figure.layout.shapes if shape.type == "path"]
