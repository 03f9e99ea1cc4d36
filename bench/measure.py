"""bench/measure.py: runs one command for bench/run and writes what it cost
as one JSON object: wall time, the command's OWN peak RSS and CPU (not its
children's: docker-idppush runs `docker save`, which must not count), its
children's CPU, and optionally the peak RSS and CPU of daemons (dockerd,
containerd) during the run and how busy the whole machine was.

  measure.py --out FILE [--stdout FILE] [--timeout SECS] [--daemon NAME=PID]...
             -- CMD [ARGS...]

Own peak RSS: VmHWM of /proc/PID/status, sampled every 5 ms while the
command runs (a high-water mark: only growth in its last 5 ms can be missed).
Own CPU: utime + stime of /proc/PID/stat read while the command is a zombie
(waitid WNOWAIT), so it is exact and excludes children; children's CPU is
cutime + cstime of the same line. tree_maxrss_kb is wait4's ru_maxrss, the
largest of the command and its waited-for descendants. A daemon's peak RSS
is reset (clear_refs 5, root only) before the command starts. --stdout
sends the command's stdout to FILE; --timeout kills it (SIGKILL) after SECS.
The exit status is the command's.
"""
import json
import os
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def stat_cpu(pid):
    """(utime, stime, cutime, cstime) in seconds, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14
    return tuple(int(fields[i]) / TICK for i in (11, 12, 13, 14))


def machine_jiffies():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v), v[3] + v[4]   # total, idle + iowait


def main(argv):
    out, stdout, timeout, daemons, i = None, None, 0, [], 0
    while i < len(argv) and argv[i] != "--":
        if argv[i] == "--out":
            out = argv[i + 1]
            i += 2
        elif argv[i] == "--stdout":
            stdout = argv[i + 1]
            i += 2
        elif argv[i] == "--timeout":
            timeout = float(argv[i + 1])
            i += 2
        elif argv[i] == "--daemon":
            name, pid = argv[i + 1].split("=", 1)
            daemons.append((name, int(pid)))
            i += 2
        else:
            sys.stderr.write("measure.py: unknown option %s\n" % argv[i])
            return 2
    cmd = argv[i + 1:]
    if not out or not cmd:
        sys.stderr.write("usage: measure.py --out FILE [--stdout FILE] [--timeout SECS] "
                         "[--daemon NAME=PID]... -- CMD...\n")
        return 2
    before = {}
    for name, pid in daemons:
        try:
            with open("/proc/%d/clear_refs" % pid, "w") as f:
                f.write("5")
        except OSError:
            pass
        before[pid] = stat_cpu(pid)
    tot0, idle0 = machine_jiffies()
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, close_fds=False,
                         stdout=open(stdout, "wb") if stdout else None)
    hwm = None
    while True:
        if os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            break
        if timeout and time.monotonic() - t0 > timeout:
            sys.stderr.write("measure.py: %s: killed after %g s\n" % (cmd[0], timeout))
            p.kill()
            timeout = 0
        h = hwm_kb(p.pid)
        if h is not None:
            hwm = h if hwm is None else max(hwm, h)
        time.sleep(0.005)
    cpu = stat_cpu(p.pid)      # a zombie now: its own and its children's CPU
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    tot1, idle1 = machine_jiffies()
    rc = os.waitstatus_to_exitcode(status)
    res = {
        "cmd": os.path.basename(cmd[0]), "rc": rc, "wall_s": round(wall, 4),
        "hwm_kb": hwm, "tree_maxrss_kb": ru.ru_maxrss,
        "user_s": cpu[0] if cpu else None, "sys_s": cpu[1] if cpu else None,
        "cpu_s": round(cpu[0] + cpu[1], 3) if cpu else None,
        "children_cpu_s": round(cpu[2] + cpu[3], 3) if cpu else None,
        "ncpu": os.cpu_count(),
        "machine_busy_cores": round((os.cpu_count() or 1) * (1 - (idle1 - idle0) /
                                                              max(1, tot1 - tot0)), 3),
        "daemons": {},
    }
    for name, pid in daemons:
        c0, c1 = before.get(pid), stat_cpu(pid)
        res["daemons"][name] = {
            "pid": pid, "hwm_kb": hwm_kb(pid),
            "cpu_s": round(c1[0] + c1[1] - c0[0] - c0[1], 3) if c0 and c1 else None,
        }
    with open(out, "a") as f:
        f.write(json.dumps(res) + "\n")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
