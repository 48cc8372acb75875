"""How a Dask grading run names its workers' canaries (coursekit.grade.cluster), without a cluster:
the scheduler's answers come from a stand-in client. The real cluster: test_cluster.py."""

from __future__ import annotations

import stat
import time

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


def test_the_canary_runs_once_per_run_machine_and_environment(tmp_path, monkeypatch):
    """Workers of one run on one machine with the same environment share one canary run; another
    run, other versions or another environment run their own; a canary that dies is run again."""
    import threading

    monkeypatch.setattr(cluster.tempfile, "tempdir", str(tmp_path))
    runs: list[str] = []

    def canary(problems):
        def run():
            runs.append(threading.current_thread().name)
            time.sleep(0.3)  # the others wait on the lock meanwhile
            return problems

        return run

    same = ["run-1", False, 1, {"torch": "2.14.1"}, None, "/venv/bin/python"]
    answers = {}

    def worker(name: str, pid: str) -> None:
        # as Dask's workers: the same environment but for the variable Dask sets per process
        monkeypatch.setenv("__DASK_PARENT_PID", pid)
        answers[name] = cluster._canary_once_per_machine(same, name, canary([]))

    threads = [
        threading.Thread(target=worker, args=(w, str(100 + i)), name=w)
        for i, w in enumerate(("w1", "w2", "w3"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(runs) == 1 and answers == {w: ([], runs[0]) for w in ("w1", "w2", "w3")}, (runs, answers)
    assert stat.S_IMODE((tmp_path / "coursekit-canary").stat().st_mode) == 0o700  # the grader's only

    # another run, other versions, another environment: a canary of their own, with its answer
    failing = canary(["fc_vs_conv: lost 2 of 20 points"])
    assert cluster._canary_once_per_machine(["run-2", *same[1:]], "w4", failing) == (
        ["fc_vs_conv: lost 2 of 20 points"],
        "w4",
    )
    other = [*same[:3], {"torch": "2.13.0"}, *same[4:]]
    assert cluster._canary_once_per_machine(other, "w5", canary([])) == ([], "w5")
    monkeypatch.setenv("PATH", "/bin-without-bwrap")
    assert cluster._canary_once_per_machine(same, "w6", canary([])) == ([], "w6")
    assert len(runs) == 4

    # a worker killed during its canary leaves no answer: the next one runs it
    def dies():
        raise SystemExit("killed")

    try:
        cluster._canary_once_per_machine(["run-3", *same[1:]], "w7", dies)
    except SystemExit:
        pass
    assert cluster._canary_once_per_machine(["run-3", *same[1:]], "w8", canary([])) == ([], "w8")


def test_a_canary_folder_others_can_write_is_never_trusted(tmp_path, monkeypatch):
    """A /tmp/coursekit-canary made by another user (here: open to all) is neither read nor
    written: every worker runs its own canary, and a planted answer changes nothing."""
    monkeypatch.setattr(cluster.tempfile, "tempdir", str(tmp_path))
    folder = tmp_path / "coursekit-canary"
    folder.mkdir()
    folder.chmod(0o777)
    planted = folder / "planted.json"
    planted.write_text('{"problems": [], "worker": "evil"}')
    runs = []

    def canary():
        runs.append(1)
        return ["matmul_timing: lost 3 of 21 points"]

    same = ["run-1", False, 1, {}, None, "/venv/bin/python"]
    for worker in ("w1", "w2"):
        assert cluster._canary_once_per_machine(same, worker, canary) == (
            ["matmul_timing: lost 3 of 21 points"],
            worker,
        )
    assert len(runs) == 2 and sorted(p.name for p in folder.iterdir()) == ["planted.json"]
