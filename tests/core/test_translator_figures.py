"""The translator's attention maps: every token labelled (Plotly skips category labels on a
crowded axis unless told not to), upright column labels for long sentences, room for the titles."""

import numpy as np

from components.figures import translator as figures


def test_attention_map_labels_every_token():
    source = [f"w{i}" for i in range(32)]  # a 30-word sentence, its full stop and <eos>
    target = ["<bos>", "heute"]
    weights = np.full((len(target), len(source)), 1 / len(source))
    fig = figures.attention_map(weights, source, target, x_title="source word", y_title="decoder input",
                                hover_name="weight")
    layout = fig.layout
    assert layout.xaxis.dtick == 1 and layout.yaxis.dtick == 1
    assert layout.xaxis.tickangle == -90 and layout.height >= figures.MIN_HEIGHT
    assert list(fig.data[0].x) == source and list(fig.data[0].y) == target
    few = figures.attention_map(np.eye(3), ["a", "b", "c"], ["a", "b", "c"], x_title="x", y_title="y",
                                hover_name="w")
    assert few.layout.xaxis.tickangle == 0  # a few short labels stay level
    tall = figures.attention_map(np.ones((40, 3)) / 3, ["a", "b", "c"], [f"t{i}" for i in range(40)],
                                 x_title="x", y_title="y", hover_name="w")
    assert tall.layout.height >= figures.ROW_PX * 40 - 200  # rows keep their height, up to the cap
