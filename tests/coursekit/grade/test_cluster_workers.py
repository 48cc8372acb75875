"""How a Dask grading run names its workers' canaries and shares one canary per machine
(coursekit.grade.cluster): the naming with a stand-in client, the sharing on a real Dask scheduler
in this process with stand-in workers. The whole cluster: test_cluster.py."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace

import dask
from distributed import Lock, Scheduler
from distributed.core import rpc

from coursekit.grade import cluster

INFO = {
    "tcp://a:1": {"name": "passed", "resources": {cluster.RESOURCE: 1}},
    "tcp://b:1": {"name": "still-running", "resources": {}},
    "tcp://c:1": {"name": "no-bwrap", "resources": {}},
    "tcp://d:1": {"name": "gone", "resources": {}},
}


class Client:
    """Answers ``client.run(_worker_state, workers=..., on_error="return")`` as a scheduler would."""

    def __init__(self, states: dict):
        self.states = states
        self.asked: list[list[str]] = []

    def run(self, function, workers, on_error):
        assert function is cluster._worker_state and on_error == "return"
        self.asked.append(list(workers))
        return {address: self.states[address] for address in workers}


def test_a_worker_still_in_its_canary_is_named_once_when_it_ends(capsys):
    client = Client(
        {
            "tcp://a:1": {"ok": True, "canary_s": 12.5, "kernel_cores": 1, "host_slots": 2},
            "tcp://b:1": {"ok": False, "reason": cluster.CANARY_RUNNING},
            "tcp://c:1": {"ok": False, "reason": "the kernel jail cannot be used on this worker: no bwrap"},
            "tcp://d:1": OSError("the worker left"),  # on_error="return" hands the exception back
        }
    )
    reported: set[str] = set()
    assert cluster._report_workers(client, INFO, reported) == (1, 1)
    said = capsys.readouterr().out
    assert "worker tcp://a:1 (passed): canary passed in 12.5 s; 1 core(s) per kernel" in said
    assert "worker tcp://c:1 (no-bwrap) takes no hand-in: the kernel jail cannot be used" in said
    assert "still-running" not in said and "gone" not in said  # neither "takes no hand-in" yet
    assert reported == {"tcp://a:1", "tcp://c:1"}

    # the next look asks only the workers not named yet; the one whose canary ended is named now
    client.states["tcp://b:1"] = {"ok": True, "canary_s": 30, "kernel_cores": 1, "host_slots": 2}
    assert cluster._report_workers(client, INFO, reported) == (1, 0)
    assert client.asked[-1] == ["tcp://b:1", "tcp://d:1"]
    said = capsys.readouterr().out
    assert said.count("worker ") == 1 and "tcp://b:1 (still-running): canary passed in 30 s" in said
    asked = len(client.asked)
    assert cluster._report_workers(client, INFO, reported | {"tcp://d:1"}) == (0, 0)
    assert capsys.readouterr().out == "" and len(client.asked) == asked  # nobody left to ask


SAME = ["run-1", False, 1, {"torch": "2.14.1"}, None, "/venv/bin/python"]


def _on_a_scheduler(test) -> None:
    """``await test(worker)`` with a real Dask scheduler; ``worker(name, ip)`` is a stand-in of a
    Dask worker (its name, address, scheduler connection and event loop)."""
    from tornado.ioloop import IOLoop

    async def main():
        async with Scheduler(dashboard_address=":0", host="127.0.0.1") as scheduler:
            connections = []

            def worker(name: str, ip: str = "10.0.0.1"):
                connections.append(rpc(scheduler.address))
                return SimpleNamespace(name=name, ip=ip, scheduler=connections[-1], loop=IOLoop.current())

            try:
                await test(worker)
            finally:
                for connection in connections:
                    await connection.close_rpc()

    asyncio.run(main())


def _canary(problems: list[str], runs: list[str]):
    def run():
        runs.append(threading.current_thread().name)
        time.sleep(0.3)  # the others wait on the lock meanwhile
        return problems

    return run


def test_the_canary_runs_once_per_run_machine_and_environment(monkeypatch):
    """Workers of one run on one machine with the same environment share one canary run; another
    run, other versions, another machine or another environment run their own."""
    runs: list[str] = []

    async def test(worker):
        once = cluster._canary_once_per_machine
        together = await asyncio.gather(
            *(once(worker(w), SAME, _canary([], runs)) for w in ("w1", "w2", "w3"))
        )
        assert len(runs) == 1 and len({by for _, by in together}) == 1, (runs, together)
        assert all(problems == [] for problems, _ in together)
        # as Dask's workers: the same environment but for the variable Dask sets per process
        monkeypatch.setenv("__DASK_PARENT_PID", "4242")
        assert await once(worker("w4"), SAME, _canary([], runs)) == together[0]
        assert len(runs) == 1
        # another run (its answer too), other versions, another machine, another environment
        lost = ["fc_vs_conv: lost 2 of 20 points"]
        assert await once(worker("w5"), ["run-2", *SAME[1:]], _canary(lost, runs)) == (lost, "w5")
        assert await once(worker("w6"), [*SAME[:3], {"torch": "2.13.0"}, *SAME[4:]], _canary([], runs)) == (
            [],
            "w6",
        )
        assert await once(worker("w7", ip="10.0.0.2"), SAME, _canary([], runs)) == ([], "w7")
        monkeypatch.setenv("PATH", "/bin-without-bwrap")
        assert await once(worker("w8"), SAME, _canary([], runs)) == ([], "w8")
        assert len(runs) == 5

    _on_a_scheduler(test)


def test_a_canary_that_fails_or_whose_worker_dies_is_run_again(monkeypatch):
    """A canary that raises leaves no answer; a worker killed during its canary (its lease is no
    longer refreshed) loses the lock after the lease timeout, and the next worker runs the canary."""
    runs: list[str] = []

    def dies():
        raise SystemExit("killed")

    async def test(worker):
        once = cluster._canary_once_per_machine
        try:
            await once(worker("w1"), SAME, dies)
        except SystemExit:
            pass
        assert await once(worker("w2"), SAME, _canary([], runs)) == ([], "w2")
        # a worker that holds the lock of run-2's canary and is then killed (SIGKILL: no release)
        other = ["run-2", *SAME[1:]]
        with dask.config.set({"distributed.scheduler.locks.lease-timeout": "1s"}):
            key = cluster._canary_key(worker("w3"), other)
            dead = Lock(
                f"coursekit-canary-{key}", scheduler_rpc=worker("w3").scheduler, loop=worker("w3").loop
            )
            await dead.acquire()
            dead.refresh_callback.stop()
            started = time.monotonic()
            assert await once(worker("w4"), other, _canary([], runs)) == ([], "w4")
        assert 0.5 < time.monotonic() - started < 30, "the lock was taken before the lease ran out, or never"

    with dask.config.set({"distributed.scheduler.locks.lease-validation-interval": "200ms"}):
        _on_a_scheduler(test)
