"""A one-shot collector-style job: appends one CSV row of machine readings and exits.

herder runs it as a loop job (requires_loop: true): each normal exit means
"done", and the next run starts loop_interval seconds later.
"""
import csv
import datetime
import os
import pathlib

out = pathlib.Path(os.environ.get("SNAPSHOT_CSV", "data/snapshots.csv"))
out.parent.mkdir(parents=True, exist_ok=True)

load1, load5, _ = os.getloadavg()
meminfo = dict(
    line.split(":", 1) for line in pathlib.Path("/proc/meminfo").read_text().splitlines() if ":" in line
)
available_mb = int(meminfo["MemAvailable"].split()[0]) // 1024
now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")

new_file = not out.exists()
with out.open("a", newline="") as f:
    writer = csv.writer(f)
    if new_file:
        writer.writerow(["ts", "load1", "load5", "mem_available_mb"])
    writer.writerow([now, f"{load1:.2f}", f"{load5:.2f}", available_mb])

print(f"snapshot {now}: load {load1:.2f}, {available_mb} MB available -> {out}")
