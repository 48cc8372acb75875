"""Each limit of the grading jail against a bounded attack (bubblewrap, cgroups, rlimits).

One grading batch of matmul_timing in a scratch course whose course.toml sets small limits: a
perfect hand-in, and perfect hand-ins whose last (manually graded) code cell attacks. The batch
runs twice: with warm kernels (forked from a process that imported the framework, then moved
into the jail: coursekit.grade.warm) and with cold ones (``warm_kernels = false``). Every
attack is bounded (it asks for a little more than its limit, and sleeps at most minutes), so
without the jail it would still end. Skipped, with the reason, where the machine cannot jail
(not root, no bubblewrap, no cgroups).
"""

from __future__ import annotations

import csv
import errno
import os
import platform
import socket
import subprocess
import threading

import nbformat
import pytest

from coursekit.grade import jail
from tests.helpers import kit

NAME = "matmul_timing"
SECRET = "pg-secret-7d1f"  # in the grader's environment: no kernel may see it
ATTACKS = {
    "memory": "blob = bytearray(900 * 2**20)  # 900 MiB against a 512 MiB limit\nblob[::4096] = b'x' * len(blob[::4096])",
    "processes": (
        "import subprocess\nkids = []\ntry:\n    for _ in range(200):\n"
        "        kids.append(subprocess.Popen(['sleep', '3001']))\n"
        "except OSError as err:\n    print('FORK REFUSED', len(kids), err)"
    ),
    "orphans": (
        "import os\nos.system('setsid sleep 3002 > /dev/null 2>&1 &')\n"
        "os.system('nohup sleep 3002 > /dev/null 2>&1 &')\nprint('ORPHANS STARTED')"
    ),
    "disk": (
        "try:\n    with open('big.bin', 'wb') as f:\n        for _ in range(300):\n"
        "            f.write(b'x' * 2**20)\nexcept OSError as err:\n    print('DISK', err)\n    raise"
    ),
    "network": (
        "import os, socket\ntry:\n    socket.create_connection(('127.0.0.1', int(PORT)), timeout=5)\n"
        "    print('NETWORK OPEN')\nexcept OSError as err:\n    print('NETWORK BLOCKED', err)"
    ),
    "environment": "import os\nprint('ENV', sorted(os.environ))\nprint('SECRET' if any('SECRET' in v for v in os.environ.values()) else 'CLEAN')",
    "proc": (
        "import os\npids = [p for p in os.listdir('/proc') if p.isdigit()]\nseen = ''\nfor p in pids:\n"
        "    try:\n        seen += open(f'/proc/{p}/environ', errors='replace').read()\n"
        "    except OSError:\n        pass\nprint('PIDS', len(pids), 'LEAK' if 'SECRET' in seen else 'NOLEAK')"
    ),
    "privileges": (
        "import os\nstatus = open('/proc/self/status').read()\n"
        "print([line for line in status.splitlines() if line.startswith(('Cap', 'NoNewPrivs', 'Uid'))])\n"
        "try:\n    os.setuid(0)\n    print('BECAME ROOT')\nexcept OSError as err:\n    print('SETUID REFUSED', err)"
    ),
    # four busy processes for 4 s: on 2 cores they would take 2 cores; the kernel has 1 (--jobs 2)
    "cpu": (
        "import resource, subprocess, sys, time\nstart = time.time()\n"
        "loop = 'import time\\nend = time.time() + 4\\nwhile time.time() < end:\\n    pass'\n"
        "kids = [subprocess.Popen([sys.executable, '-c', loop]) for _ in range(4)]\n"
        "for kid in kids:\n    kid.wait()\nused = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print('CPU CORES USED', round((used.ru_utime + used.ru_stime) / (time.time() - start), 2))"
    ),
    # the grader's session keyring holds a key (the fixture adds it): the kernel must not see it
    "keyring": "print('KEYRING LEAK' if 'coursekit-test-key' in open('/proc/keys').read() else 'KEYRING CLEAN')",
    # the seccomp filter (x86-64 numbers): each call answers EPERM; without the filter, ptrace,
    # keyctl, clone and unshare of a user namespace succeed for the kernel's uid
    "syscalls": (
        "import ctypes, os, subprocess\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "calls = {'unshare_user': (272, 0x10000000), 'clone_user': (56, 0x10000000 | 17, 0, 0, 0, 0),\n"
        "         'keyctl': (250, 0, -3), 'ptrace': (101, 0, 0, 0, 0), 'bpf': (321, 0, 0, 0),\n"
        "         'io_uring_setup': (425, 1, 0), 'perf_event_open': (298, 0, 0, -1, -1, 0),\n"
        "         'userfaultfd': (323, 0), 'mount': (165, 0, 0, 0, 0, 0)}\n"
        "for name, args in calls.items():\n    got = libc.syscall(*args)\n    if got == 0 and name == 'clone_user':\n"
        "        os._exit(0)\n    print('SYSCALL', name, got, ctypes.get_errno())\n"
        "done = subprocess.run(['unshare', '-U', '-r', 'id'], capture_output=True, text=True)\n"
        "print('UNSHARE', done.returncode, done.stdout.strip(), done.stderr.strip())"
    ),
    "descriptors": (
        "import os\nfor fd in os.listdir('/proc/self/fd'):\n    try:\n"
        "        print('FD', fd, os.readlink(f'/proc/self/fd/{fd}'))\n    except OSError:\n        pass"
    ),
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(jail.available() is not None, reason=f"no jail here: {jail.available()}"),
]


def _key_in_session_keyring() -> None:
    """A new session keyring for this test process holding a user key, which the grader inherits."""
    import ctypes
    import platform

    numbers = {"x86_64": (248, 250), "aarch64": (217, 219)}.get(platform.machine())
    if numbers is None:
        pytest.skip(f"keyctl numbers unknown on {platform.machine()}")
    add_key, keyctl = numbers
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall(keyctl, 1, None)  # KEYCTL_JOIN_SESSION_KEYRING
    payload = SECRET.encode()
    key = libc.syscall(add_key, b"user", b"coursekit-test-key", payload, len(payload), -3)  # session keyring
    if key < 0:
        pytest.skip(f"keyrings unavailable here (errno {ctypes.get_errno()})")
    assert "coursekit-test-key" in open("/proc/keys").read()


def _sleepers(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if marker in line and "ps -eo" not in line]


@pytest.fixture(scope="module", params=["warm", "cold"])
def graded(request, make_course, perfect_handin):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    root = make_course([NAME])
    toml = root / "course.toml"
    toml.write_text(
        toml.read_text().replace(
            "grading = { cell_timeout_s = 60 }",
            "grading = { cell_timeout_s = 60, memory_gib = 0.5, processes = 64, "
            "disk_gib = 0.1, warm_kernels = "
            f"{'true' if request.param == 'warm' else 'false'} }}",
        )
    )
    handins = root / "handins"
    handins.mkdir()
    nbformat.write(perfect_handin(root, NAME), handins / f"perfect__{NAME}.ipynb")
    for kind, code in ATTACKS.items():
        nb = perfect_handin(root, NAME)
        (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "plot_b"]
        cell.source += "\n\n" + code.replace("SECRET", SECRET).replace("PORT", str(port))
        nbformat.write(nb, handins / f"{kind}__{NAME}.ipynb")
    assert kit(root, "collect", str(handins)).returncode == 0
    env = dict(os.environ, PGPASSWORD=SECRET, COURSE_GRADEBOOK_TOKEN=SECRET)
    _key_in_session_keyring()
    result = kit(root, "grade", NAME, "--no-canary", "--jobs", "2", env=env)  # 1 core per kernel
    with open(root / "grading_report.csv", newline="") as f:
        report = {r["student_id"]: r for r in csv.DictReader(f)}
    listener.close()
    return {"root": root, "report": report, "result": result, "accepted": accepted, "kind": request.param}


def _printed(graded, student: str) -> str:
    nb = nbformat.read(graded["root"] / "autograded" / student / NAME / f"{NAME}.ipynb", as_version=4)
    return "\n".join(
        o.get("text", "") + str(o.get("evalue", "")) for c in nb.cells for o in c.get("outputs", [])
    )


def _row(graded, student):
    row = graded["report"][student]
    assert row["status"] == "graded", row
    return row


def test_limits_are_named_on_every_row(graded):
    assert "limits: memory, processes, disk" in graded["result"].stdout
    for row in graded["report"].values():
        assert (
            "limits: memory 0.5 GiB without swap, 64 processes, CPU 1 core(s) at top weight, disk 0.1 GiB, network off"
            in row["notes"]
        ), row
        assert ("warm kernel" in row["notes"]) == (graded["kind"] == "warm"), row


def test_memory_limit_stops_the_cell_and_keeps_earlier_points(graded):
    row = _row(graded, "memory")
    assert "memory limit 0.5 GiB reached in cell" in row["notes"], row
    assert float(row["score"]) == float(_row(graded, "perfect")["score"])  # the tests before it still count


def test_process_limit(graded):
    row = _row(graded, "processes")
    assert "process limit 64 reached in cell" in row["notes"], row
    assert "FORK REFUSED" in _printed(graded, "processes")


def test_nothing_survives_grading(graded):
    assert not _sleepers("sleep 3001"), _sleepers("sleep 3001")
    assert not _sleepers("sleep 3002"), _sleepers("sleep 3002")
    assert "ORPHANS STARTED" in _printed(graded, "orphans")


def test_disk_limit(graded):
    row = _row(graded, "disk")
    assert "disk limit 0.1 GiB reached in cell" in row["notes"], row


def test_no_network(graded):
    assert "NETWORK BLOCKED" in _printed(graded, "network")
    assert not graded["accepted"], "the kernel reached a TCP listener of the grading machine"


def test_environment_is_clean(graded):
    printed = _printed(graded, "environment")
    assert "CLEAN" in printed and SECRET not in printed and "PGPASSWORD" not in printed
    # the kernel starts without its folder on the import path: a hand-in's ipykernel_launcher.py is data
    assert "'PYTHONSAFEPATH'" in printed


def test_proc_shows_only_the_jail(graded):
    printed = _printed(graded, "proc")
    assert "NOLEAK" in printed
    count = int(printed.split("PIDS ", 1)[1].split()[0])
    assert count < 20, f"the kernel sees {count} processes: not its own PID namespace"


def test_no_privileges(graded):
    printed = _printed(graded, "privileges")
    assert "SETUID REFUSED" in printed and "BECAME ROOT" not in printed
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert f"'{field}:\\t0000000000000000'" in printed, (field, printed)
    assert "'NoNewPrivs:\\t1'" in printed


def test_no_descriptor_of_the_grader(graded):
    printed = _printed(graded, "descriptors")
    paths = [line.split(" ", 2)[2] for line in printed.splitlines() if line.startswith("FD ")]
    assert paths, printed
    root = str(graded["root"].resolve())
    leaked = [p for p in paths if root in p or "gradebook" in p or p.endswith(".py")]
    assert not leaked, f"the kernel holds descriptors of the grader: {leaked}"


def test_cpu_limit(graded):
    """A hand-in's busy processes get one core (its share with --jobs 2 on 2 cores), not the machine."""
    import re

    _row(graded, "cpu")
    used = float(re.search(r"CPU CORES USED ([\d.]+)", _printed(graded, "cpu")).group(1))
    print(f"the CPU attack used {used} cores (limit 1)")
    assert used <= 1.25, f"the hand-in used {used} cores"
    # the limit is not a starvation: the processes did run (about one core's worth on a quiet machine;
    # under pytest-xdist the other worker's kernels take their share of the cores, 0.44 seen in CI)
    assert used >= 0.2, used


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the attack uses x86-64 system call numbers")
def test_seccomp_refuses_namespaces_keys_tracing(graded):
    """No user namespace (neither the unshare command nor a raw clone), no keys, no ptrace, bpf,
    io_uring, perf events, userfaultfd or mount: each refused with EPERM by the jail's filter."""
    printed = _printed(graded, "syscalls")
    answers = {
        line.split()[1]: line.split()[2:] for line in printed.splitlines() if line.startswith("SYSCALL ")
    }
    assert len(answers) == 9, printed[-2000:]
    for name, (got, err) in answers.items():
        assert (got, err) == ("-1", str(errno.EPERM)), (name, got, err)
    assert "UNSHARE 1 " in printed and "Operation not permitted" in printed and "uid=0" not in printed, (
        printed[-500:]
    )


def test_keyring_unreachable(graded):
    """The grader's session keyring (a key added by the fixture) is out of the kernel's reach."""
    printed = _printed(graded, "keyring")
    assert "KEYRING CLEAN" in printed and "KEYRING LEAK" not in printed, printed[-500:]
