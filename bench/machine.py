"""/proc readings shared by the benchmarks: CPU time of processes and threads, memory, and how
busy the whole machine was (to tell a slow sluice from a crowded machine)."""
import os
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid, tid=None):
    """utime + stime of a process (or one of its threads), in seconds."""
    path = "/proc/%d/task/%d/stat" % (pid, tid) if tid else "/proc/%d/stat" % pid
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_cpu(pid):
    """{tid: (name, cpu seconds)} for every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            out[int(tid)] = (name, proc_cpu_seconds(pid, int(tid)))
        except OSError:
            pass
    return out


def vm_kib(pid, key):
    """A line of /proc/<pid>/status in KiB (VmRSS, VmHWM, ...); 0 if absent."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class MachineCpu:
    """The whole machine's CPU between two snapshots, in cores: task time (user+nice+system, what
    processes are charged), interrupt time (irq+softirq: loopback TCP is mostly softirq, and the
    kernel may charge it to no process), steal (the hypervisor gave our vCPUs to someone else),
    and CPU pressure (share of time some runnable task waited for a CPU, /proc/pressure/cpu;
    None where PSI is off)."""

    def __init__(self):
        self.tasks, self.irq, self.steal, self.stall_us = self._read()

    @staticmethod
    def _read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        tasks = (v[0] + v[1] + v[2]) / CLK_TCK
        irq = (v[5] + v[6]) / CLK_TCK
        steal = v[7] / CLK_TCK if len(v) > 7 else 0.0
        stall = None
        try:
            with open("/proc/pressure/cpu") as f:
                stall = int(f.readline().split("total=")[1])
        except (OSError, IndexError, ValueError):
            pass
        return tasks, irq, steal, stall

    def since(self, wall_s, later=None):
        """{"tasks", "irq", "steal": cores; "pressure": share or None} from this snapshot to
        `later` (another MachineCpu; default: now), over wall_s seconds."""
        tasks, irq, steal, stall = (later.tasks, later.irq, later.steal, later.stall_us) if later else self._read()
        return {"tasks": (tasks - self.tasks) / wall_s, "irq": (irq - self.irq) / wall_s,
                "steal": (steal - self.steal) / wall_s,
                "pressure": None if stall is None or self.stall_us is None else (stall - self.stall_us) / 1e6 / wall_s}


def binary_note(path):
    """What was measured: the binary's build time and the repository's commit (+ "dirty" when the
    work tree has changes, which the binary may or may not include)."""
    try:
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.stat(path).st_mtime))
    except OSError:
        built = "?"
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", repo, "describe", "--always", "--dirty"], capture_output=True,
                              text=True, timeout=5).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        head = "?"
    return "%s (built %s, repo at %s)" % (path, built, head)


def _first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return None


def fdatasync_ms(directory, n=30):
    """Median time of a 4 KiB write + fdatasync in `directory` (where the stores live), appending
    (the file grows, as SQLite's WAL does between checkpoints) and overwriting: the floor of every
    durable commit (synchronous = FULL syncs the WAL once per commit). On a shared virtual disk
    this moves with the other tenants' I/O."""
    import statistics
    import tempfile
    try:
        fd, path = tempfile.mkstemp(prefix="sluice-bench-sync-", dir=directory)
    except OSError:
        return None
    try:
        out = {}
        for mode in ("append", "overwrite"):
            times = []
            for i in range(n):
                os.pwrite(fd, b"x" * 4096, i * 4096 if mode == "append" else (i % 4) * 4096)
                t = time.perf_counter()
                os.fdatasync(fd)
                times.append((time.perf_counter() - t) * 1000)
            out[mode] = round(statistics.median(times), 3)
        return out
    finally:
        os.close(fd)
        os.unlink(path)


def describe(sluice_bin=None):
    """What the figures were measured on: CPU model and count, memory, kernel, OS, the file
    system under TMPDIR (where the stores live) and its fdatasync latency, versions of the peers,
    and the load average at the start (another tenant's work shows there)."""
    d = {"cpus": os.cpu_count(), "load_avg": os.getloadavg()}
    try:
        with open("/proc/cpuinfo") as f:
            d["cpu_model"] = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            d["mem_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    u = os.uname()
    d["kernel"] = "%s %s" % (u.sysname, u.release)
    try:
        with open("/etc/os-release") as f:
            d["os"] = next((line.split("=", 1)[1].strip().strip('"') for line in f if line.startswith("PRETTY_NAME=")),
                           None)
    except OSError:
        pass
    tmp = os.environ.get("TMPDIR", "/tmp")
    df = _first_line(["sh", "-c", "df -T %s | tail -1" % tmp])
    if df:
        parts = df.split()
        d["tmp_fs"] = "%s (%s)" % (parts[1], parts[0]) if len(parts) > 1 else df
    d["fdatasync_ms"] = fdatasync_ms(tmp)
    d["redis"] = _first_line(["redis-server", "--version"])
    d["node"] = _first_line(["node", "--version"])
    try:
        import json
        pkg = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "node_modules", "bullmq", "package.json")
        with open(pkg) as f:
            d["bullmq"] = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        d["bullmq"] = None
    import sqlite3
    d["python_sqlite"] = sqlite3.sqlite_version
    if sluice_bin:
        d["sluice"] = binary_note(sluice_bin)
    return d


class Noise:
    """How busy the machine was with work that is not ours during a measurement: the CPU of
    every task (from /proc/stat) minus ours — this process, its finished children, and the
    long-lived processes we name by pid — plus CPU pressure. Read the figures of a run with
    these: another tenant's load shows up here, not as "it got slower"."""

    def __init__(self, pids):
        self.pids = [p for p in pids if p]
        self.t0 = time.monotonic()
        self.m0 = MachineCpu()
        self.own0 = self._own()

    def _own(self):
        import resource
        s = resource.getrusage(resource.RUSAGE_SELF)
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        total = s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
        per = {}
        for p in self.pids:
            try:
                per[p] = proc_cpu_seconds(p)
            except (OSError, IndexError, ValueError):
                pass
        return total, per

    def stop(self):
        """{"others": cores, "pressure": share or None, "own": cores}; call before stopping
        the named processes."""
        wall = max(1e-6, time.monotonic() - self.t0)
        m = self.m0.since(wall)
        total, per = self._own()
        own = total - self.own0[0] + sum(v - self.own0[1].get(p, 0.0) for p, v in per.items())
        return {"others": max(0.0, m["tasks"] - own / wall), "pressure": m["pressure"], "own": own / wall,
                "irq": m["irq"], "steal": m["steal"]}
