"""The side-by-side ratios as the round trip to Redis grows.

``python -m benchmarks.latency`` runs ``side_by_side`` for one state size
several times: once straight to the server, then through a TCP relay in a
process of its own that holds each chunk for a set delay before passing it on.
The relay stands in for a network hop, as between an application host and
ElastiCache. This project's VM has no netem in its kernel, so the relay does
the delaying. Its delay is a ``time.sleep``, so the real added time depends on the
OS. The table therefore gives the round trip measured, the p50 of a raw
``SET``, beside each row's ratios.

What we add to a call is mostly a fixed cost, on the client (encoding,
decoding, the Python layer) and in the script. The same cost weighs less
against a longer round trip, so the ratios rise with it.
"""
from __future__ import annotations

import argparse
import multiprocessing
import socket
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from . import target
from .side_by_side import OURS_OF, RAW_OF, bench_size

#: Delays (seconds each way) run by default; None is straight to the server.
DEFAULT_DELAYS: Tuple[Optional[float], ...] = (None, 0.0, 0.0001, 0.00025, 0.0005)


def _pump(src: socket.socket, dst: socket.socket, delay: float) -> None:
    """Copy ``src`` to ``dst``, holding each chunk ``delay`` seconds; close both at the end."""
    try:
        while True:
            chunk = src.recv(1 << 20)
            if not chunk:
                break
            if delay:
                time.sleep(delay)
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def relay(listener: socket.socket, upstream: Tuple[str, int], delay: float) -> None:
    """Accept on ``listener`` for ever; each connection is relayed to ``upstream``, both ways."""
    while True:
        conn, _ = listener.accept()
        up = socket.create_connection(upstream)
        for sock in (conn, up):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_pump, args=(conn, up, delay), daemon=True).start()
        threading.Thread(target=_pump, args=(up, conn, delay), daemon=True).start()


def start_relay(upstream: Tuple[str, int], delay: float) -> Tuple[Any, int]:
    """A relay process to ``upstream`` on a free loopback port: ``(process, port)``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = int(listener.getsockname()[1])
    proc = multiprocessing.get_context("fork").Process(target=relay, args=(listener, upstream, delay), daemon=True)
    proc.start()
    listener.close()  # the relay process holds its own copy
    return proc, port


def run(direct: Any, delays: Tuple[Optional[float], ...], size: int, rounds: int) -> List[Dict[str, Any]]:
    """One ``side_by_side`` run per delay; per run the round trip and our ratios to the naive code.

    ``direct`` is a client of the server over TCP: the "straight" row uses its
    address, and each relay connects to it.
    """
    kwargs = direct.connection_pool.connection_kwargs
    upstream = (kwargs["host"], kwargs["port"])
    rows = []
    for delay in delays:
        if delay is None:
            result = bench_size(f"redis://{upstream[0]}:{upstream[1]}/{kwargs.get('db', 0)}", size, rounds)
        else:
            proc, relay_port = start_relay(upstream, delay)
            try:
                result = bench_size(f"redis://127.0.0.1:{relay_port}/{kwargs.get('db', 0)}", size, rounds)
            finally:
                proc.terminate()
                proc.join()
        row: Dict[str, Any] = {"delay_ms": None if delay is None else delay * 1000,
                               "round_trip_us": result["save"]["raw SET"]["p50_us"]}
        for group, raw in RAW_OF.items():
            row[group] = result[group][OURS_OF[group]]["ops_per_s"] / result[group][raw]["ops_per_s"]
        rows.append(row)
        print(_line(row), flush=True)
    return rows


def _line(row: Dict[str, Any]) -> str:
    where = "straight" if row["delay_ms"] is None else f"relay, {row['delay_ms']:g} ms each way"
    return (f"{where:28s} {row['round_trip_us']:8.0f}  x{row['save']:.2f}  x{row['load']:.2f}"
            f"  x{row['list10']:.2f}")


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a Redis to use (default: a throwaway redis-server)")
    parser.add_argument("--size", type=int, default=10_000, help="state size, bytes of JSON")
    parser.add_argument("--rounds", type=int, default=5)
    delays = ",".join("direct" if d is None else f"{d * 1000:g}" for d in DEFAULT_DELAYS)
    parser.add_argument("--delays", default=delays,
                        help="milliseconds each way, comma-separated; 'direct' is straight to the server")
    args = parser.parse_args(argv)
    delays = tuple(None if d.strip() == "direct" else float(d) / 1000 for d in args.delays.split(","))
    print(f"{args.size} B state, {args.rounds} interleaved rounds; ours against raw redis-py, same server")
    print(f"{'path to Redis':28s} {'SET p50 µs':>8s}  save   load   list(10)")
    with target(args.url) as (client, _url, _started):
        run(client, delays, args.size, args.rounds)


if __name__ == "__main__":
    main()
