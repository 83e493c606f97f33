"""Why write transactions on SQLite begin with BEGIN IMMEDIATE.

50 concurrent "judges" each run read-then-write transactions (read their sheet, update it)
against one SQLite file in WAL mode with a busy timeout, once with SQLite's default deferred
BEGIN and once with BEGIN IMMEDIATE, in the same process. Prints the share of transactions
that failed with "database is locked" and the throughput of each mode relative to the other.

    .venv/bin/python bench/sqlite_locking.py [--writers 50] [--rounds 20]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import threading
import time
from pathlib import Path


def setup(path: Path, writers: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE sheets (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
    conn.executemany("INSERT INTO sheets VALUES (?, 0)", [(i,) for i in range(writers)])
    conn.commit()
    conn.close()


def run(path: Path, writers: int, rounds: int, begin: str) -> tuple[int, int, float]:
    ok = failed = 0
    lock = threading.Lock()
    barrier = threading.Barrier(writers)

    def judge(i: int) -> None:
        nonlocal ok, failed
        conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        barrier.wait()
        for _ in range(rounds):
            try:
                conn.execute(begin)
                (value,) = conn.execute("SELECT value FROM sheets WHERE id = ?", (i,)).fetchone()
                conn.execute(
                    "SELECT count(*) FROM sheets"
                ).fetchone()  # a read that widens the window
                conn.execute("UPDATE sheets SET value = ? WHERE id = ?", (value + 1, i))
                conn.execute("COMMIT")
                with lock:
                    ok += 1
            except sqlite3.OperationalError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if "locked" not in str(exc):
                    raise
                with lock:
                    failed += 1
        conn.close()

    threads = [threading.Thread(target=judge, args=(i,)) for i in range(writers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok, failed, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for mode in ("BEGIN", "BEGIN IMMEDIATE"):
            path = Path(folder) / f"{mode.replace(' ', '_')}.db"
            setup(path, args.writers)
            results[mode] = run(path, args.writers, args.rounds, mode)
    total = args.writers * args.rounds
    for mode, (ok, failed, seconds) in results.items():
        print(
            f"{mode:16s} committed {ok:5d}/{total}  failed 'database is locked' {failed:5d} "
            f"({failed / total:6.1%})  {ok / seconds:8.0f} commits/s"
        )
    (ok_d, _f, s_d), (ok_i, _g, s_i) = results["BEGIN"], results["BEGIN IMMEDIATE"]
    print(f"ratio of committed saves, immediate / deferred: {ok_i / max(ok_d, 1):.2f}x")
    speed = (ok_i / s_i) / max(ok_d / s_d, 1e-9)
    print(f"ratio of commits per second, immediate / deferred: {speed:.2f}x")


if __name__ == "__main__":
    main()
