"""The ``greenlight`` command and what people run around the pipeline."""
