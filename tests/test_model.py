"""The checkpointer against a model of its contract, driven by hypothesis.

Random sequences of saves (generated or repeated ids, compare-and-set, retention
of 1 to 3 or none), re-sent saves, prunes, deletes, loads and lists run on one
client; after every step the stored history must match a plain-Python model.
Repeating an id is what a re-sent save does, so the model also checks that a
replay never commits twice, before or after retention removed the checkpoint.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from redis_checkpoint import CheckpointMetadata, ConflictError, RedisCheckpointer, admin
from redis_checkpoint.base import ANY

THREADS = ("t1", "t2")
IDS = ("a", "b", "c", "d", "e", "f")


@dataclass
class ThreadModel:
    live: List[str] = field(default_factory=list)  # commit order, oldest first
    saved: Dict[str, CheckpointMetadata] = field(default_factory=dict)  # live and removed
    states: Dict[str, Any] = field(default_factory=dict)

    @property
    def current(self) -> Optional[str]:
        return self.live[-1] if self.live else None

    def trim(self, keep: int) -> int:
        excess = max(0, len(self.live) - keep)
        del self.live[:excess]
        return excess


def machine_for(client: Any, **options: Any) -> type:
    class Checkpoints(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.prefix = f"model{uuid.uuid4().hex[:10]}"
            self.cps = {k: RedisCheckpointer(client, key_prefix=self.prefix, max_checkpoints=k or None,
                                                **options)
                        for k in (0, 1, 2, 3)}
            self.model = {t: ThreadModel() for t in THREADS}
            self.step = 0

        @rule(thread=st.sampled_from(THREADS), keep=st.sampled_from((0, 1, 2, 3)),
              cid=st.one_of(st.none(), st.sampled_from(IDS)),
              cas=st.sampled_from(("any", "none", "current", "stale")))
        def save(self, thread: str, keep: int, cid: Optional[str], cas: str) -> None:
            m = self.model[thread]
            self.step += 1
            expected: Any = {"any": ANY, "none": None, "current": m.current, "stale": "zz-never"}[cas]
            state = {"step": self.step}
            known = m.saved.get(cid) if cid is not None else None
            try:
                got = self.cps[keep].save(thread, state, checkpoint_id=cid, expected_id=expected,
                                          metadata={"step": self.step})
            except ConflictError as exc:
                assert known is None, "a known id must be a no-op, never a conflict"
                assert expected is not ANY and expected != m.current
                assert exc.current_id == m.current
                return
            if known is not None:  # a replay: nothing new, the first save's metadata
                assert got == known
                return
            assert expected is ANY or expected == m.current
            assert got.parent_id == m.current and got.metadata == {"step": self.step}
            m.live.append(got.id)
            m.saved[got.id] = got
            m.states[got.id] = state
            if keep:
                m.trim(keep)

        @rule(thread=st.sampled_from(THREADS), keep=st.integers(1, 3))
        def prune(self, thread: str, keep: int) -> None:
            assert admin.prune(self.cps[0], thread, keep) == self.model[thread].trim(keep)

        @rule(thread=st.sampled_from(THREADS))
        def delete(self, thread: str) -> None:
            assert self.cps[0].delete_thread(thread) is bool(self.model[thread].live)
            self.model[thread] = ThreadModel()

        @rule(thread=st.sampled_from(THREADS), cid=st.sampled_from(IDS))
        def load_by_id(self, thread: str, cid: str) -> None:
            m = self.model[thread]
            got = self.cps[0].load(thread, cid)
            if cid in m.live:
                assert got is not None and got.state == m.states[cid]
            else:
                assert got is None

        @invariant()
        def history_matches(self) -> None:
            for thread, m in self.model.items():
                cp = self.cps[0]
                listed = cp.list(thread)
                assert [x.id for x in listed] == m.live[::-1]
                assert listed == [m.saved[i] for i in m.live[::-1]]
                latest = cp.load(thread)
                if m.current is None:
                    assert latest is None
                else:
                    assert latest is not None and latest.id == m.current
                    assert latest.state == m.states[m.current]
                assert cp.list(thread, limit=1) == listed[:1]

        def teardown(self) -> None:
            for thread in THREADS:
                self.cps[0].delete_thread(thread)

    return Checkpoints


def test_checkpointer_matches_its_model(client: Any, fast_path: bool) -> None:
    run_state_machine_as_test(
        machine_for(client, fast_path=fast_path),
        settings=settings(max_examples=60, stateful_step_count=40, deadline=None),
    )


def test_checkpointer_matches_its_model_across_segments(client: Any, fast_path: bool) -> None:
    """Small segments: saves seal every few checkpoints, so loads, lists, retention and
    deletes cross sealed segments all the time."""
    run_state_machine_as_test(
        machine_for(client, segment_checkpoints=3, segment_bytes=2000, fast_path=fast_path),
        settings=settings(max_examples=60, stateful_step_count=40, deadline=None),
    )
