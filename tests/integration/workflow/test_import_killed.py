"""A killed import (SIGKILL, no chance to clean up) leaves the database as it was before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from churnradar.store.tables import Customer, ImportBatch, Order

ROWS = 3000

# Runs an import in a child process. It prints a line after each chunk is staged and, when
# asked, after the first table of the merge (the new customers) is written, then waits there
# to be killed: the kill lands inside the transaction, between two merged tables.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sqlalchemy.engine import make_url
    from churnradar.config import load_settings
    from churnradar.store import staging
    from churnradar.store.engine import make_engine
    from churnradar.workflow.import_file import ImportRequest, import_file

    url, data, path, moment = sys.argv[1:5]
    run = staging._Merge.run

    def merge_then_wait(merge, upsert, **sizes):
        counts = run(merge, upsert, **sizes)
        if moment == "merging":
            print("merged", merge.target.name, flush=True)
            time.sleep(60)
        return counts

    staging._Merge.run = merge_then_wait

    def staged(rows):
        print("staged", rows, flush=True)
        if moment == "staging":
            time.sleep(60)

    import_file(
        make_engine(make_url(url)),
        load_settings(data_dir=Path(data)),
        ImportRequest(kind="orders", path=Path(path), chunk_rows=1000, create_customers=True),
        on_chunk=staged,
    )
    """
)


def _orders_file(folder: Path) -> Path:
    path = folder / "orders.csv"
    pd.DataFrame(
        {
            "订单号": [f"SO{i}" for i in range(ROWS)],
            "客户编号": [f"C{i % 300}" for i in range(ROWS)],
            "下单时间": "2025-03-01",
            "订单金额": "¥1,000.00",
        }
    ).to_csv(path, index=False)
    return path


def _counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return (
            connection.scalar(select(func.count()).select_from(Customer)) or 0,
            connection.scalar(select(func.count()).select_from(Order)) or 0,
            connection.scalar(select(func.count()).select_from(ImportBatch)) or 0,
        )


@pytest.mark.parametrize("moment", ["staging", "merging"])
def test_a_killed_import_leaves_the_database_as_before(
    engine: Engine, tmp_path: Path, moment: str
) -> None:
    path = _orders_file(tmp_path)
    url = engine.url.render_as_string(hide_password=False)
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(tmp_path / "data"), str(path), moment],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as child:
        assert child.stdout is not None
        line = child.stdout.readline()
        while line and not line.startswith("merged" if moment == "merging" else "staged"):
            line = child.stdout.readline()
        assert line, "the child ended before the moment to kill it"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)

    assert child.returncode == -signal.SIGKILL
    assert _counts(engine) == (0, 0, 0)
    # and the database takes the next import as if nothing had happened
    finished = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(tmp_path / "data"), str(path), "none"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert _counts(engine) == (300, ROWS, 1)
