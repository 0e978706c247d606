"""The one downloader: a timeout, a sha256 check, folders created as needed, and the run's
offline switch.

Every download in the harness goes through ``download``: checkpoints (WeightsResolver), dataset
archives (`bench data fetch`) and torchvision segmentation weights. The first failure switches the
run offline (``RunContext.go_offline``: one line, said once), so later items do not each wait for
their own timeout; no item is retried.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

TIMEOUT_S = 20.0          # connect / read timeout per request
PROBE_TIMEOUT_S = 5.0


class DownloadFailed(OSError):
    """The file could not be fetched (network) or did not match its checksum; says what to do."""


def torchvision_hash_prefix(url: str) -> str | None:
    """torchvision names its files ``<name>-<first 8+ hex of sha256>.pth``."""
    m = re.search(r"-([0-9a-f]{8,64})\.[a-z]+$", url.rsplit("/", 1)[-1])
    return m.group(1) if m else None


def download(url: str, path: Path, sha256: str | None = None, ctx=None, sha256_prefix: str | None = None,
             timeout: float = TIMEOUT_S) -> str:
    """Fetch ``url`` to ``path`` (atomically, via a temporary file beside it) and return its sha256.

    Raises DownloadFailed, naming the file to place by hand. A network failure switches ``ctx``
    offline; a checksum mismatch does not (the network works; the file is wrong)."""
    if ctx is not None and ctx.offline:
        raise DownloadFailed(f"offline: not downloading {url}; download it by hand and place it at {path}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    os.close(fd)
    h = hashlib.sha256()
    try:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as f:  # noqa: S310
                for chunk in iter(lambda: r.read(1 << 20), b""):
                    h.update(chunk)
                    f.write(chunk)
        except OSError as e:    # URLError, HTTPError, timeouts, refused connections, DNS
            if ctx is not None:
                ctx.go_offline(f"{url}: {e}")
            raise DownloadFailed(f"could not download {url} ({e}); download it on a connected machine and "
                                 f"place it at {path}") from e
        got = h.hexdigest()
        want = sha256 or sha256_prefix
        if want and not got.startswith(want.lower()):
            raise DownloadFailed(f"{url}: downloaded sha256 {got} does not match the expected {want}; not installed")
        os.replace(tmp, path)
        return got
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
        ctx.go_offline(f"{url}: {why}")
    return ok
