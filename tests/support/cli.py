"""Running the installed ``churnradar`` command the way a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def churnradar(
    tmp_path: Path, *arguments: str, timeout: float = 60, **variables: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m churnradar`` in ``tmp_path`` (no stray .env) with a clean environment:
    no CHURNRADAR_* or locale variables from the machine, a C.UTF-8 LANG, data under tmp_path.
    """
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("CHURNRADAR_")
        and name not in {"LANG", "LC_ALL", "LC_MESSAGES", "FORCE_COLOR", "COLUMNS"}
    }
    environment |= {
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "CHURNRADAR_DATA_DIR": str(tmp_path / "data"),
    }
    environment |= variables
    return subprocess.run(
        [sys.executable, "-m", "churnradar", *arguments],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


def small_company(folder: Path) -> Path:
    """A demo company a test can afford: 400 customers, two years to 2026-03-31, in
    ``folder``, built with the command a user runs."""
    built = churnradar(
        folder,
        "demo",
        *("--customers", "400", "--years", "2", "--end", "2026-03-31", "--no-serve"),
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    return folder
