"""A state whose shape changed over three deploys: ``python -m examples.evolving_state [URL]``."""
import sys
from typing import Any

from redis_checkpoint import RedisCheckpointer


def upgrade(state: Any, from_version: int) -> Any:
    """Bring a state saved by older code to today's shape, one step at a time."""
    if from_version < 2:  # version 2 renamed "n" to "count"
        state = {"count": state["n"]}
    if from_version < 3:  # version 3 keeps the counters under "totals"
        state = {"totals": {"count": state["count"]}}
    return state


def main(url: str) -> None:
    # what last month's and last week's code saved
    RedisCheckpointer.from_url(url, key_prefix="example-versions", state_version=1).save("job-1", {"n": 5})
    RedisCheckpointer.from_url(url, key_prefix="example-versions", state_version=2).save("job-2", {"count": 6})

    # today's code reads both in today's shape
    cp = RedisCheckpointer.from_url(url, key_prefix="example-versions", state_version=3, upgrade=upgrade)
    for job in ("job-1", "job-2"):
        latest = cp.load(job)
        print(f"{job}: saved as version {latest.version}, loaded as {latest.state}")
        assert latest.state == {"totals": {"count": 5 if job == "job-1" else 6}}
    # the next save of a job writes version 3; nothing older is rewritten until then
    cp.advance("job-1", lambda state: {"totals": {"count": state["totals"]["count"] + 1}})
    print("job-1 history:", [(m.version, m.id[:8]) for m in cp.list("job-1")])
    for job in ("job-1", "job-2"):
        cp.delete_thread(job)
    cp.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "redis://localhost:6379/0")
