"""A continuous process actor: polls a (simulated) feed forever and stops cleanly on SIGTERM."""
import random
import signal
import sys
import time

running = True


def stop(signum, frame):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)

seq = 0
while running:
    seq += 1
    price = 100 + random.gauss(0, 1)
    print(f"tick {seq}: price {price:.2f}")
    time.sleep(2)

print("feed_watcher: SIGTERM received, closing cleanly", file=sys.stderr)
