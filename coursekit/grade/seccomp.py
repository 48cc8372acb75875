"""The jail's seccomp filter: the system calls a notebook has no use for are refused.

A kernel in the jail already has no capabilities and ``no_new_privs``, so most of the calls
below would fail anyway; the filter removes them from the Linux kernel's attack surface, and
closes the ones an unprivileged process may use: a new *user namespace* (in which the kernel
would be root over its own mounts and network, the first step of many kernel exploits), key
rings, tracing, ``bpf``, ``perf_event_open``, ``userfaultfd`` and ``io_uring``.

The filter is built by libseccomp (Debian's ``libseccomp2``, through the ``pyseccomp``
binding) as one BPF program: bubblewrap loads it for a cold kernel (``bwrap --seccomp FD``) and
a warm kernel loads the same bytes itself (:func:`install`) just before it starts. Refused
calls fail with ``EPERM`` (``clone3`` with ``ENOSYS``: its flags lie in memory a filter cannot
read, and the C library then falls back to ``clone``, whose flags are checked); system calls
of another architecture (32-bit calls on x86-64) kill the process.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os

# clone() flags that make a namespace (linux/sched.h); CLONE_NEWTIME is 0x80
NAMESPACE_FLAGS = {
    "CLONE_NEWTIME": 0x80,
    "CLONE_NEWNS": 0x20000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
TIOCSTI, TIOCLINUX = 0x5412, 0x541C  # ioctls that type into, or read, the controlling terminal

# what is refused, and why (the reason is what doctor and the README say)
REFUSED = {
    "namespaces": ("unshare", "setns"),
    "keys": ("add_key", "keyctl", "request_key"),
    "tracing": ("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "perf_event_open"),
    "kernel attack surface": (
        "bpf",
        "userfaultfd",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "lookup_dcookie",
        "open_by_handle_at",
        "name_to_handle_at",
    ),
    "the system": (
        "mount",
        "umount2",
        "pivot_root",
        "chroot",
        "move_mount",
        "open_tree",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "mount_setattr",
        "swapon",
        "swapoff",
        "reboot",
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "acct",
        "quotactl",
        "settimeofday",
        "clock_settime",
        "clock_adjtime",
        "syslog",
        "vhangup",
        "iopl",
        "ioperm",
    ),
}


def missing() -> str | None:
    """None when the filter can be built here, else what to install."""
    try:
        program()
    except (ImportError, OSError, RuntimeError) as err:
        return (
            f"no seccomp filter can be built here ({type(err).__name__}: {err}): "
            "apt-get install libseccomp2 and pip install pyseccomp"
        )
    return None


@functools.cache
def program() -> bytes:
    """The filter as a BPF program (``struct sock_filter`` entries of 8 bytes), built once."""
    import pyseccomp as sc

    refuse = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(defaction=sc.ALLOW)
    for names in REFUSED.values():
        for name in names:
            try:
                flt.add_rule(refuse, name)
            except (OSError, ValueError, RuntimeError):
                pass  # a call this architecture (or this libseccomp) does not know: nothing to refuse
    for flag in NAMESPACE_FLAGS.values():
        flt.add_rule(refuse, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for request in (TIOCSTI, TIOCLINUX):
        flt.add_rule(refuse, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, request))
    read, write = os.pipe()
    try:
        flt.export_bpf(os.fdopen(write, "wb", closefd=False))
        os.close(write)
        write = -1
        chunks = []
        while chunk := os.read(read, 65536):
            chunks.append(chunk)
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)
    code = b"".join(chunks)
    if not code or len(code) % 8:
        raise RuntimeError(f"libseccomp exported {len(code)} bytes, not a BPF program")
    return code


def memfd() -> int:
    """An inheritable file descriptor holding :func:`program`, for ``bwrap --seccomp FD``."""
    fd = os.memfd_create("coursekit-seccomp", 0)  # no MFD_CLOEXEC: bwrap inherits it
    os.write(fd, program())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def install(code: bytes) -> None:
    """Load the BPF program ``code`` into this process (after ``no_new_privs``), for good: it
    holds for this process and everything it starts."""
    PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
    buffer = ctypes.create_string_buffer(code, len(code))
    prog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.POINTER(_SockFilter)))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter not loaded")


def describe() -> str:
    """One line for reports and doctor."""
    count = sum(len(names) for names in REFUSED.values())
    return f"seccomp: {count} system calls and new namespaces refused"
