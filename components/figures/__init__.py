"""Plotly builders, pure (data in, go.Figure out): shared.py for every page, K.py for topic K."""
