"""How a Dask grading run names its workers' canaries (coursekit.grade.cluster), without a cluster:
the scheduler's answers come from a stand-in client. The real cluster: test_cluster.py."""

from __future__ import annotations

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
