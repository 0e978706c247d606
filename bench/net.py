"""The one downloader: connect/read timeouts and a total time limit, a length check, a sha256
check, folders created as needed, no partial files, and the run's offline switch.

Every download in the harness goes through ``download``: checkpoints (WeightsResolver), dataset
files and test assets (`bench data fetch`) and torchvision segmentation weights. The first network
failure switches the run offline (``bench.offline.go_offline``: one line, said once), so later items
do not each wait for their own timeout; no item is retried. A server that answers with an HTTP
error or a wrong file does not switch the run offline: the network works.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.errors import ChecksumMismatch, Unavailable
from bench.offline import go_offline

TIMEOUT_S = 20.0          # connect timeout, and the longest wait for the next bytes
TOTAL_TIMEOUT_S = 1800.0  # the whole file: a server trickling bytes cannot hold a run for ever
PROBE_TIMEOUT_S = 5.0
CHUNK = 1 << 20


class DownloadFailed(Unavailable, OSError):
    """The file could not be fetched (offline, network, HTTP error, cut short); says what to do.
    A file that arrived but has the wrong sha256 raises ``ChecksumMismatch`` instead (a failure)."""


def torchvision_hash_prefix(url: str) -> str | None:
    """torchvision names its files ``<name>-<first 8+ hex of sha256>.pth``."""
    m = re.search(r"-([0-9a-f]{8,64})\.[a-z]+$", url.rsplit("/", 1)[-1])
    return m.group(1) if m else None


def is_offline(ctx=None, offline: bool | None = None) -> bool:
    if offline is not None:
        return offline
    if ctx is not None:
        return bool(ctx.offline)
    from bench.config import settings

    return settings().offline


def download(url: str, path: Path, sha256: str | None = None, ctx=None, sha256_prefix: str | None = None,
             timeout: float = TIMEOUT_S, total_timeout: float = TOTAL_TIMEOUT_S,
             offline: bool | None = None) -> str:
    """Fetch ``url`` to ``path`` (atomically, via a temporary file beside it) and return its sha256.

    Offline (``offline``, else ``ctx.offline``, else $BENCH_OFFLINE) nothing touches the network.
    Raises DownloadFailed naming the file to place by hand, or ChecksumMismatch naming both hashes;
    either way ``path`` is untouched. A network failure switches ``ctx`` offline."""
    path = Path(path)
    if is_offline(ctx, offline):
        raise DownloadFailed(f"offline (BENCH_OFFLINE or --offline): not downloading {url}; download it on a "
                             f"connected machine and place it at {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.part-")
    os.close(fd)
    try:
        got = _fetch_to(url, Path(tmp), path, ctx, timeout, total_timeout)
        want = (sha256 or sha256_prefix or "").lower()
        if want and not got.startswith(want):
            raise ChecksumMismatch(f"{url}: downloaded sha256 {got} does not match the expected {want}; "
                                   f"not installed at {path} (a changed or corrupted file: check the source)")
        os.replace(tmp, path)
        return got
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fetch_to(url: str, tmp: Path, final: Path, ctx, timeout: float, total_timeout: float) -> str:
    """Stream ``url`` into ``tmp``; return the sha256. Raises DownloadFailed on any network problem."""
    h = hashlib.sha256()
    received, expected = 0, None
    start = time.monotonic()
    hand = f"download it on a connected machine and place it at {final}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as f:  # noqa: S310
            length = r.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            read = getattr(r, "read1", r.read)   # read1: what has arrived, so the total limit is checked often
            while chunk := read(CHUNK):
                h.update(chunk)
                f.write(chunk)
                received += len(chunk)
                if time.monotonic() - start > total_timeout:
                    raise TimeoutError(f"not finished after {total_timeout:.0f} s ({received} bytes so far)")
    except urllib.error.HTTPError as e:     # the host answered: the network works, the file is not there
        raise DownloadFailed(f"could not download {url} (HTTP {e.code} {e.reason}); {hand}") from e
    except (OSError, ValueError) as e:      # URLError, timeouts, refused or reset connections, DNS, bad URL
        if ctx is not None:
            go_offline(ctx, f"{url}: {e}")
        raise DownloadFailed(f"could not download {url} ({e}); {hand}") from e
    if expected is not None and received != expected:
        if ctx is not None:
            go_offline(ctx, f"{url}: connection closed early")
        raise DownloadFailed(f"could not download {url}: the connection closed after {received} of "
                             f"{expected} bytes; nothing was written. Try again, or {hand}")
    return h.hexdigest()


def reachable(url: str, timeout: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """One HEAD request: (True, status) when the host answers at all (any HTTP status), else
    (False, the error). Used by `bench doctor` and before libraries that retry on their own."""
    req = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310
            return True, f"HTTP {r.status}"
    except urllib.error.HTTPError as e:        # the host answered
        return True, f"HTTP {e.code}"
    except (OSError, ValueError) as e:
        return False, f"{e.__class__.__name__}: {getattr(e, 'reason', e)}"


def probe(ctx, url: str) -> bool:
    """Before a library that retries on its own (Hugging Face: 5 tries with backoff), check the
    host once; unreachable switches the run offline. Returns whether to go online."""
    if ctx is None or ctx.offline:
        return False
    ok, why = reachable(url)
    if not ok:
        go_offline(ctx, f"{url}: {why}")
    return ok
