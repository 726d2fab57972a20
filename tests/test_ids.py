"""Client-side checkpoint ids: unique within a process and across forked children."""
from __future__ import annotations

import multiprocessing
import random
import re
import threading
from typing import Any, List, Set

from redis_checkpoint import ids

fork = multiprocessing.get_context("fork")
UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
FROZEN_MS = 1_800_000_000_000


def _ids_at_one_instant(n: int, out: Any) -> None:
    # Every child sees the same millisecond: only the random bits can keep them apart.
    ids.time.time_ns = lambda: FROZEN_MS * 1_000_000  # type: ignore[attr-defined]
    out.put([ids.new_id() for _ in range(n)])


def test_ids_are_uuid7_text_and_increase_within_a_process() -> None:
    made = [ids.new_id() for _ in range(5000)]
    assert all(UUID7.match(i) for i in made)
    assert made == sorted(made) and len(set(made)) == len(made)


def test_ids_from_many_threads_are_distinct() -> None:
    seen: List[str] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [ids.new_id() for _ in range(2000)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 16000


def test_forked_children_never_repeat_each_others_ids() -> None:
    """The random bits alone keep children apart when they share a millisecond."""
    ids.new_id()  # the parent makes ids before forking, as under gunicorn --preload
    random.seed(0)  # user code seeding the global generator must not matter
    out = fork.Queue()
    procs = [fork.Process(target=_ids_at_one_instant, args=(300, out)) for _ in range(4)]
    for p in procs:
        p.start()
    batches = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    every: Set[str] = set()
    for batch in batches:
        assert len(set(batch)) == 300
        every.update(batch)
    assert len(every) == 1200


def _one_id(out: Any) -> None:
    out.put(ids.new_id())


def test_a_child_forked_while_the_id_lock_is_held_still_makes_ids() -> None:
    """As if another thread of the parent was inside ``new_id`` at the fork."""
    out = fork.Queue()
    with ids._lock:
        child = fork.Process(target=_one_id, args=(out,))
        child.start()
    try:
        assert UUID7.match(out.get(timeout=20))
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
