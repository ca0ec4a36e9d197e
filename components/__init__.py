"""Reusable UI pieces: translations, shared controls, figures, token chips, cached loaders."""
