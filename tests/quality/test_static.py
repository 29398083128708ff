"""The static checks of ``make lint`` (ruff, strict mypy, import-linter) inside ``pytest``.

They run in every plain ``pytest`` run. Find them with ``pytest tests/quality``,
``-k TestStaticChecks`` or ``-m slow`` (mypy with a cold cache takes several seconds); skip them
in a quick loop with ``-m "not slow"``. Each tool runs from the repository root, using the
executable next to the interpreter that runs the tests, so it sees the project's venv.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

CHECKS = {
    "ruff": ["ruff", "check", "src", "tests", "benchmarks"],
    "mypy": ["mypy", "src"],
    "import-linter": ["lint-imports"],
}


@pytest.mark.slow
@pytest.mark.parametrize("tool", list(CHECKS))
class TestStaticChecks:
    def test_passes(self, tool: str) -> None:
        executable, *arguments = CHECKS[tool]
        assert (BIN / executable).is_file(), f"{executable} is not installed next to python"

        result = subprocess.run(
            [str(BIN / executable), *arguments],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

        if result.returncode != 0:
            pytest.fail(
                f"`{' '.join(CHECKS[tool])}` failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}",
                pytrace=False,
            )
