"""One error hierarchy: the exception's type, never its name or message, says skip or fail.

``Unavailable``: something optional is absent (weights, a dataset, a package, labels): the run
records a skip with the message and exits 0. ``Failed``: something present is wrong (a checksum,
a malformed file, a model that crashes): the run records a failure and exits 1. Every message says
which file, what is wrong and what to do.

Existing built-in bases are kept as second parents (``FileNotFoundError``, ``LookupError``,
``ValueError``) so callers that catch those keep working.
"""
from __future__ import annotations


class BenchError(Exception):
    """Base of every error the harness raises on purpose."""

    def __str__(self) -> str:  # KeyError-like bases quote their argument; we want the plain sentence
        return str(self.args[0]) if self.args else self.__class__.__name__


# --- skips (exit 0) -----------------------------------------------------------------------------
class Unavailable(BenchError):
    """A missing optional asset: a skip, not a failure. The message says what to place where."""


class NotApplicable(Unavailable, LookupError):
    """A component that does not apply to this input (the ``clean`` oracle on a set without ground
    truth, a full-reference measure on real rain)."""


class WeightsMissing(Unavailable, FileNotFoundError):
    """Weights that cannot be had; the message names the file, the folder and the source."""


class DatasetMissing(Unavailable, LookupError):
    """A registered dataset whose files are not on this machine; the message says where to put them."""


class PackageMissing(Unavailable, ImportError):
    """An optional package that is not installed; the message names the pip command."""


# --- failures (exit 1) ------------------------------------------------------------------------
class Failed(BenchError):
    """Something present is wrong: recorded as a failure, the run goes on, the exit code is 1."""


class ChecksumMismatch(Failed, ValueError):
    """A file whose sha256 (or key layout) is not what its card says; the message gives both hashes."""


class BadInput(Failed, ValueError):
    """A malformed input file (image, label, config): the message names the file and the line."""


def is_skip(error: BaseException) -> bool:
    """True for a missing optional asset (exit 0), False for anything else (exit 1)."""
    return isinstance(error, Unavailable)
