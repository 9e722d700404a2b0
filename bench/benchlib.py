"""What the hunt benchmarks share (bench/hunt.sh, bench/hunt_prev.sh)."""
import os
import subprocess
import time


def once(c, tf, have_time):
    """Runs command c once: wall time by the monotonic clock around the whole
    child, and (with /usr/bin/time, writing to tf) its peak RSS in MB, CPU
    seconds (user + system) and exit status; None where not known."""
    wrap = ["/usr/bin/time", "-v", "-o", tf] if have_time else []
    t0 = time.monotonic()
    rc = subprocess.call(wrap + c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    rss = cpu = None
    if have_time:
        try:
            for l in open(tf):
                if "Maximum resident set size" in l:
                    rss = int(l.split(":")[1]) / 1024
                elif "User time (seconds)" in l or "System time (seconds)" in l:
                    cpu = (cpu or 0.0) + float(l.split(":")[1])
                if l.strip().startswith("Exit status:"):
                    rc = int(l.split(":")[1])
        except Exception:  # a half-written time file: wall time only
            pass
    return wall, rss, cpu, rc
