"""derain-bench: compare single-image deraining methods under named, reproducible protocols."""

__version__ = "0.1.0"
