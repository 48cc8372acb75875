"""course_utils.env: TensorFlow imported without its start-up log lines, in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys


def _quiet_run(tmp_path, fake: str | None = None) -> subprocess.CompletedProcess:
    """``quiet_tensorflow(); import keras`` in a fresh process, TensorFlow's log level unset."""
    env = {k: v for k, v in os.environ.items() if k not in {"TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND"}}
    if fake is not None:  # a "tensorflow" that writes to file descriptor 2, as TensorFlow's C++ does
        (tmp_path / "tensorflow.py").write_text(f"import os\nos.write(2, {fake!r}.encode())\n")
        env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    code = (
        "from course_utils import quiet_tensorflow; quiet_tensorflow(); import sys; "
        "print('tensorflow' in sys.modules)"
    )
    if fake is None:
        code += "; import keras"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)


def test_quiet_tensorflow_drops_the_start_up_lines(tmp_path):
    done = _quiet_run(tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr
    assert done.stderr == "", f"TensorFlow still printed: {done.stderr[:500]}"


def test_quiet_tensorflow_keeps_other_messages(tmp_path):
    noise = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1796401382.678815   31483 port.cc:153] oneDNN custom operations are on.\n"
    )
    done = _quiet_run(tmp_path, noise + "E0000 a real error the student must see\n")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "E0000 a real error the student must see"
