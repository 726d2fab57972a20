"""Does latency stay flat as one thread's history, or the number of threads, grows?"""
from __future__ import annotations

import random
from typing import Any, Callable, Dict, List, Sequence

from redis_checkpoint import RedisCheckpointer

from .side_by_side import clear, timed
from .states import conversation

Progress = Callable[[str], None]


def history(client: Any, lengths: Sequence[int], progress: Progress) -> List[Dict[str, Any]]:
    """save, list(10) and list(10, before=<middle>) on a thread of each history length."""
    prefix = "scalehist"
    clear(client, prefix)
    cp = RedisCheckpointer(client, key_prefix=prefix)
    state = conversation(1000)
    out = []
    for n in lengths:
        tid = f"h{n}"
        ids = [cp.save(tid, state).id for _ in range(n)]
        progress(f"history of {n}: built")
        middle = ids[n // 2]
        out.append({
            "history": n,
            "save": timed(lambda _i: cp.save(tid, state)),
            "list10": timed(lambda _i: cp.list(tid, limit=10)),
            "list10_before_middle": timed(lambda _i: cp.list(tid, limit=10, before=middle)),
        })
    clear(client, prefix)
    return out


def threads(client: Any, counts: Sequence[int], progress: Progress) -> List[Dict[str, Any]]:
    """save and load latency on random threads, as the number of threads grows."""
    prefix = "scalethreads"
    clear(client, prefix)
    cp = RedisCheckpointer(client, key_prefix=prefix)
    state = conversation(1000)
    rng = random.Random(7)
    made = 0
    out = []
    for n in counts:
        while made < n:
            cp.save(f"t{made}", state)
            made += 1
        progress(f"{n} threads: built")
        pick = [f"t{rng.randrange(n)}" for _ in range(320)]
        out.append({
            "threads": n,
            "save": timed(lambda i: cp.save(pick[i], state)),
            "load": timed(lambda i: cp.load(pick[i])),
        })
    clear(client, prefix)
    return out
