"""Cached figures: one build per distinct input, and the dict form st.plotly_chart asks for is made once."""

import numpy as np
import plotly.graph_objects as go

from components.figure_cache import ReadOnlyFigure, cached_figure

BUILDS = []


def bars(values, title=""):
    BUILDS.append(title)
    return go.Figure(go.Bar(y=values), layout=dict(title=title))


def test_equal_inputs_share_one_build_and_other_inputs_do_not():
    BUILDS.clear()
    first = cached_figure(bars, np.arange(5.0), title="a")
    again = cached_figure(bars, np.arange(5.0), title="a")  # an equal array, another object
    other = cached_figure(bars, np.arange(5.0), title="b")
    assert first is again and other is not first and BUILDS == ["a", "b"]
    assert isinstance(first, ReadOnlyFigure)


def test_the_dict_form_is_plotlys_own_and_a_caller_cannot_spoil_it():
    figure = cached_figure(bars, [1.0, 2.0, 3.0], title="same as plotly")
    expected = go.Figure(go.Bar(y=[1.0, 2.0, 3.0]), layout=dict(title="same as plotly")).to_dict()
    spec = figure.to_dict()
    assert spec == expected
    spec["layout"].pop("template")  # what figure_spec does
    spec["layout"]["height"] = 99
    spec["data"] = []
    assert figure.to_dict() == expected
    assert figure.to_dict()["data"][0] is figure.to_dict()["data"][0]  # made once, not copied per draw


def test_arguments_that_cannot_be_pickled_are_built_every_time():
    BUILDS.clear()

    def transformed(values, how, title=""):
        return bars([how(v) for v in values], title)

    first = cached_figure(transformed, [1.0], lambda v: 2 * v, title="a lambda")
    again = cached_figure(transformed, [1.0], lambda v: 2 * v, title="a lambda")
    assert BUILDS == ["a lambda", "a lambda"] and again is not first
    assert list(first.to_dict()["data"][0]["y"]) == [2.0]
