"""What the benchmark scripts share: the peak memory of a process."""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def peak_rss() -> int:
    """This process's peak RSS in bytes.

    On Linux it is the high-water mark of the process's own memory (VmHWM): ``ru_maxrss`` is
    not, as a spawned child inherits its parent's peak through fork and exec.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, KiB elsewhere
    return peak if sys.platform == "darwin" else peak * 1024
