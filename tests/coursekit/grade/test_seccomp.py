"""The jail's seccomp filter on its own: loaded into a forked process of this test (the way a
warm kernel loads it), each refused call answers EPERM and ordinary work still runs."""

from __future__ import annotations

import errno
import os
import platform
import subprocess
import sys

import pytest

from coursekit.grade import seccomp

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64" or seccomp.missing() is not None,
    reason=f"needs Linux on x86-64 with libseccomp: {seccomp.missing()}",
)

# x86-64 numbers; without the filter (as this test's uid) the first four succeed
CALLS = {
    "unshare_user": (272, 0x10000000),
    "keyctl_session": (250, 0, -3),
    "ptrace_traceme": (101, 0, 0, 0, 0),
    "bpf": (321, 0, 0, 0),
    "io_uring_setup": (425, 1, 0),
    "userfaultfd": (323, 0),
    "clone3": (435, 0, 0),
}

PROBE = """
import ctypes, errno, os, subprocess, sys
from coursekit.grade import seccomp
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(38, 1, 0, 0, 0) == 0  # no_new_privs, as the warm kernel sets it first
if sys.argv[1] == "filter":
    seccomp.install(seccomp.program())
done = subprocess.run(["unshare", "-U", "-r", "id", "-u"], capture_output=True, text=True)
print("unshare_command", done.returncode, done.stdout.strip() or "-")
for name, args in CALLS.items():  # last: the raw unshare moves this process into a new namespace
    if name == "ptrace_traceme":  # in a child that exits at once: a traced process stops at exec
        pid = os.fork()
        if pid == 0:
            got = libc.syscall(*args)
            os._exit(0 if got == 0 else ctypes.get_errno())
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        print(name, 0 if code == 0 else -1, code)
        continue
    got = libc.syscall(*args)
    print(name, got, ctypes.get_errno())
child = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
print("python_child", child.stdout.strip())
"""


def _probe(mode: str) -> dict[str, list[str]]:
    code = f"CALLS = {CALLS!r}\n{PROBE}"
    done = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()}


def test_filter_refuses_and_ordinary_work_runs():
    got = _probe("filter")
    for name in CALLS:
        want = errno.ENOSYS if name == "clone3" else errno.EPERM
        assert got[name] == ["-1", str(want)], (name, got[name])
    assert got["unshare_command"][0] != "0", got["unshare_command"]
    assert got["python_child"] == ["42"]


def test_the_same_calls_work_without_the_filter():
    """The control: what the filter takes away is there without it (else the test above proves nothing)."""
    got = _probe("none")
    assert got["ptrace_traceme"][0] == "0"
    assert int(got["keyctl_session"][0]) > 0
    if open("/proc/sys/user/max_user_namespaces").read().strip() != "0":
        assert got["unshare_command"] == ["0", "0"], got["unshare_command"]  # root in a new user namespace


def test_program_is_one_bpf_program_built_once():
    code = seccomp.program()
    assert len(code) % 8 == 0 and 10 < len(code) // 8 < 4096
    assert seccomp.program() is code
    fd = seccomp.memfd()
    try:
        assert os.read(fd, len(code) + 1) == code
        assert os.get_inheritable(fd)
    finally:
        os.close(fd)
