"""Talk to herder from a Python job (stdlib only): the health channel, herder.health/1.

Under herder, fd 3 is a pipe to herder (HERDER_HEALTH_FD=3) and each call writes
one JSON line to it. herder puts this folder on a Python actor's PYTHONPATH, so
`import health_channel` just works. Outside herder, heartbeat/progress/health
do nothing and error() writes to stderr, so a job runs the same on its own.

    import health_channel as hc
    hc.heartbeat()
    hc.progress(0.4)
    hc.health(0.8, "2 of 10 sources slow")
    hc.error("yahoo.json", "Expecting value", context=body[:500])

A failing channel never makes the job fail.
"""
import json
import os
import sys

_stream = None
_broken = False


def _channel():
    global _stream, _broken
    if _stream is None and not _broken:
        fd = os.environ.get("HERDER_HEALTH_FD")
        if fd is None:
            _broken = True
            return None
        try:
            _stream = os.fdopen(int(fd), "w", buffering=1, closefd=False)
        except (OSError, ValueError):
            _broken = True
    return _stream


def _send(message):
    global _broken
    stream = _channel()
    if stream is None:
        return False
    try:
        stream.write(json.dumps(message, default=str) + "\n")
        return True
    except (OSError, ValueError):
        _broken = True
        return False


def heartbeat():
    """I am alive (resets herder's stall timer)."""
    _send({"type": "heartbeat"})


def progress(value):
    """How far this run has got, 0..1 (also counts as a sign of life)."""
    _send({"type": "progress", "value": max(0.0, min(1.0, float(value)))})


def health(score, detail=""):
    """The job's own view of its health, 0..1, with a short reason."""
    _send({"type": "health", "score": max(0.0, min(1.0, float(score))), "detail": str(detail)})


def error(error_type, message, context=""):
    """An error the job survived: a process_errors row under herder, a stderr line outside it."""
    if not _send({"type": "error", "error_type": str(error_type), "message": str(message), "context": str(context)}):
        print(f"error {error_type}: {message}", file=sys.stderr)
