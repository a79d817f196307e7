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
