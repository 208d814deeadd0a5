"""The model's version: part of every run id and manifest."""

MODEL_VERSION = "0.3.2"
"""Changes whenever the same scenario and seed would give different results."""
