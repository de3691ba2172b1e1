"""Log metric points as fast as possible for a while; report the slowest log_metrics call. The
writer's queue bound is lowered (argv[2]) so that a locked store makes it overflow quickly."""

import json
import sys
import time

import autotrack
import autotrack.writer

autotrack.writer.MAX_QUEUED = int(sys.argv[2])
seconds = float(sys.argv[1])
slowest, logged = 0.0, 0
with autotrack.start_run(name="flood") as run:
    autotrack.log_params({"kept": "yes"})
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        autotrack.log_metrics({"loss": 1.0 / (logged + 1)}, step=logged)
        slowest = max(slowest, time.perf_counter() - started)
        logged += 1
print(json.dumps({"run": run.id, "logged": logged, "slowest_s": slowest}), flush=True)
