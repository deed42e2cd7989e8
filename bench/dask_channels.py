"""How a Dask task can report progress and look for a stop: cost and delay of each channel, measured.

    python bench/dask_channels.py [--messages 500] [--workers 2]

On a LocalCluster on 127.0.0.1 (one-thread worker processes), one task per worker sends `--messages` progress
messages through each channel, and the client receives them:

- events: `Worker.log_event(topic, msg)` in the task, `Client.subscribe_topic(topic, handler)` in the client
  (what `emotiondesk.runs.cluster` uses);
- Queue: `distributed.Queue.put` in the task, `Queue.get` in a client thread.

(`distributed.Pub`/`Sub`, the pub-sub of older releases, is gone from distributed 2026.8.)

For each: the task's time per send (what a worker pays per report), and the delay from send to receipt in the
client (median, 95th percentile). Then the stop check: `distributed.Event.is_set()` and `Variable.get()` from a
task, per call. A report every 0.1 s per worker is what the batch sends.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time


def sender(kind: str, name: str, count: int, worker_number: int) -> float:
    """Runs on a worker: send `count` timestamped messages; seconds per send."""
    from distributed import Queue, get_worker

    worker = get_worker()
    channel = Queue(name) if kind == "Queue" else None
    started = time.perf_counter()
    for number in range(count):
        message = (worker_number, number, time.time())
        if kind == "events":
            worker.log_event(name, message)
        else:
            channel.put(message)
    return (time.perf_counter() - started) / count


def stop_check(kind: str, name: str, count: int) -> float:
    """Runs on a worker: seconds per stop check."""
    from distributed import Event, Variable

    thing = Event(name) if kind == "Event.is_set" else Variable(name)
    started = time.perf_counter()
    for _ in range(count):
        thing.is_set() if kind == "Event.is_set" else thing.get(timeout=5)
    return (time.perf_counter() - started) / count


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from distributed import Client, LocalCluster, Queue, Variable

    with (
        LocalCluster(n_workers=args.workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        print(f"LocalCluster on 127.0.0.1, {args.workers} workers, {args.messages} messages per worker\n")
        print("| channel | per send in the task (ms) | delay to the client, median (ms) | 95th percentile (ms) |")
        print("|---|---|---|---|")
        for kind in ("events", "Queue"):
            name = f"bench-{kind}"
            delays: list[float] = []
            expected = args.messages * args.workers
            done = threading.Event()

            def received(message, delays=delays, done=done, expected=expected) -> None:
                delays.append(time.time() - message[2])
                if len(delays) >= expected:
                    done.set()

            if kind == "events":
                client.subscribe_topic(name, lambda event, received=received: received(event[1]))
            else:
                queue = Queue(name)

                def drain(queue=queue, received=received, expected=expected) -> None:
                    for _ in range(expected):
                        received(queue.get(timeout=60))

                threading.Thread(target=drain, daemon=True).start()
            futures = [
                client.submit(sender, kind, name, args.messages, i, pure=False, workers=[w])
                for i, w in enumerate(client.scheduler_info()["workers"])
            ]
            per_send = statistics.median(client.gather(futures))
            done.wait(60)
            if kind == "events":
                client.unsubscribe_topic(name)
            lost = expected - len(delays)
            print(
                f"| {kind} | {per_send * 1e3:.3f} | {statistics.median(delays) * 1e3:.1f} | "
                f"{percentile(delays, 0.95) * 1e3:.1f} |" + (f" ({lost} lost)" if lost else "")
            )
        Variable("bench-stop").set(False)
        print("\n| stop check from a task | per call (ms) |\n|---|---|")
        for kind in ("Event.is_set", "Variable.get"):
            seconds = client.submit(stop_check, kind, "bench-stop", 200, pure=False).result()
            print(f"| {kind} | {seconds * 1e3:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
