"""Two processes writing into the same fresh cache file at once lose nothing and never lock out."""

from __future__ import annotations

import multiprocessing
import traceback
from pathlib import Path

from agentrt.replay.store import ReplayStore

ENTRIES_PER_PROCESS = 200


def _writer(folder: str, worker: int, barrier: object, errors: object) -> None:
    try:
        barrier.wait(timeout=60)  # type: ignore[attr-defined]
        with ReplayStore(folder) as store:
            for i in range(ENTRIES_PER_PROCESS):
                material = {"v": 1, "agent": f"agent-{worker}", "task": f"bar {i}"}
                store.put_run(
                    store.run_key(material),
                    material=material,
                    agent=f"agent-{worker}",
                    sim_time=f"2024-01-02T16:{i // 60:02d}:{i % 60:02d}-05:00",
                    model="scripted",
                    result={"summary": f"{worker}/{i}"},
                    events=[],
                    orders=[],
                )
                request = {"worker": worker, "i": i}
                store.put_call(
                    store.call_key(request),
                    kind="tool",
                    name="t",
                    sim_time=None,
                    request=request,
                    response=i,
                )
    except BaseException:
        errors.put(traceback.format_exc())  # type: ignore[attr-defined]
        raise


def test_two_processes_write_into_one_new_file_without_lost_writes(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    errors = ctx.Queue()
    folder = str(tmp_path / "cache")
    workers = [ctx.Process(target=_writer, args=(folder, n, barrier, errors)) for n in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert failures == []
    assert [p.exitcode for p in workers] == [0, 0]

    with ReplayStore(folder) as store:
        stats = store.stats()
        assert stats["runs"]["by_agent"] == {"agent-1": 200, "agent-2": 200}
        assert stats["calls"]["total"] == 2 * ENTRIES_PER_PROCESS
        assert store.verify(quarantine=False).ok
