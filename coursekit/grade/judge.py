"""The judge: hidden tests run in the grader's process, never in the student's kernel.

A test cell of an assignment source has two parts. What comes before ``### BEGIN HIDDEN
TESTS`` is the visible test: students see it, and it runs in their kernel when they run the
notebook, and again when it is graded. The hidden part, between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS``, is *judged*: :class:`coursekit.grade.execute.GuardedExecute` takes it
out of the cell before the cell goes to the kernel and runs it here, in the grading worker,
outside the jail. There it reaches the notebook only through ``student``:

    ### BEGIN HIDDEN TESTS
    rng = random.Random(20240417)
    A = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(3)]
    C = student.matmul(A, A)                       # the student's matmul, called in their kernel
    assert np.allclose(C, np.array(A) @ np.array(A)), "matmul is wrong for a 3x3 product"
    ### END HIDDEN TESTS

* ``student.NAME(*args, **kwargs)`` calls the notebook's ``NAME`` in its kernel;
  ``student.eval("expression", **inputs)`` evaluates an expression there, with ``inputs`` bound
  to names. Inputs and results travel as JSON (numbers, strings, lists, tuples, dicts, sets, numpy
  arrays, tensors as arrays, DataFrames, Series), never pickle: a result is data, and an object
  that is not data arrives as :class:`Opaque` (its type name only).
* ``student.source(name)``: the code of the last cell of the hand-in that defines ``name``, read
  from the notebook file, not asked of the kernel.
* The judged part also finds ``Tensor`` (a tensor's values: ``.numpy()``, ``.shape``,
  ``.framework``), ``Opaque`` and ``StudentError`` (an exception raised by the student's code).

References, inputs and the verdict are computed here, where the hand-in cannot patch numpy or
IPython, read the tests or swallow their errors. A cell earns its points only when its judged
part passes (and its visible part raised nothing): the kernel can only lose points, never add
them. The judge's message (an ``assert`` message, written for students) becomes the cell's error.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_REGION = re.compile(r"\n*[ \t]*" + re.escape(BEGIN) + r"\n(.*?)[ \t]*" + re.escape(END) + r"[ \t]*", re.S)
MAX_DEPTH = 64  # nesting of a value sent or returned


def split(source: str) -> tuple[str, str | None]:
    """``(kernel part, judged part)`` of a test cell's source; ``None``: the cell has no judged part."""
    judged = [m.group(1) for m in _REGION.finditer(source)]
    if not judged:
        return source, None
    return _REGION.sub("", source).rstrip() + "\n", "\n".join(judged)


class StudentError(Exception):
    """The notebook gave no usable answer to a judge's call (it raised, printed no answer, or the
    answer was not data)."""


@dataclass(frozen=True)
class Opaque:
    """A value the notebook returned that is not data: only its type's name travels."""

    type_name: str


class Tensor:
    """A framework tensor the notebook returned, as data: ``.array`` (numpy) and the framework."""

    def __init__(self, array, framework: str):
        self.array, self.framework = array, framework

    def numpy(self):
        return self.array

    @property
    def shape(self) -> tuple:
        return tuple(self.array.shape)

    def __repr__(self) -> str:
        return f"Tensor({self.framework}, shape={self.shape})"


# Runs in the student's kernel for every call: decodes the inputs, evaluates the expression in the
# notebook's namespace, prints the result as tagged JSON after a nonce. Whatever the kernel prints
# is only its answer: the judge parses it as data and checks it against its own references.
_CALL = r"""
def __course_judge_call(nonce, expr, inputs):
    import json

    def decode(obj):
        if "__ndarray__" in obj:
            import numpy
            return numpy.asarray(obj["__ndarray__"], dtype=obj["dtype"])
        if "__tuple__" in obj:
            return tuple(obj["__tuple__"])
        return obj

    def plain(v, depth=0):
        if depth > MAX_DEPTH:
            raise ValueError("the value is nested too deeply")
        if v is None or isinstance(v, (bool, int, float, str)):
            return v if type(v) in (bool, int, float, str, type(None)) else (
                float(v) if isinstance(v, float) else int(v) if isinstance(v, int) else str(v))
        kind, mod = type(v).__name__, type(v).__module__.split(".")[0]
        if isinstance(v, (list, tuple)):
            items = [plain(x, depth + 1) for x in v]
            return items if isinstance(v, list) else {"__tuple__": items}
        if isinstance(v, (set, frozenset)):
            return {"__set__": [plain(x, depth + 1) for x in v]}
        if isinstance(v, dict):
            return {"__dict__": [[plain(k, depth + 1), plain(x, depth + 1)] for k, x in v.items()]}
        if mod in ("torch", "tensorflow", "keras", "jax", "cupy") and hasattr(v, "shape"):
            if hasattr(v, "detach"):
                v = v.detach().cpu().numpy()
            elif hasattr(v, "get"):
                v = v.get()
            else:
                v = __import__("numpy").asarray(v)
            return {"__tensor__": plain(v.tolist(), depth + 1), "dtype": str(v.dtype), "framework": mod}
        if mod == "numpy" and kind == "ndarray":
            return {"__ndarray__": plain(v.tolist(), depth + 1), "dtype": str(v.dtype)}
        if mod == "numpy" and hasattr(v, "item"):
            return plain(v.item(), depth + 1)
        if mod == "pandas" and kind == "DataFrame":
            return {"__dataframe__": {"columns": plain(list(v.columns), depth + 1),
                                      "index": plain(list(v.index), depth + 1),
                                      "data": plain(v.to_numpy(dtype=object).tolist(), depth + 1)}}
        if mod == "pandas" and kind == "Series":
            return {"__series__": {"index": plain(list(v.index), depth + 1),
                                   "data": plain(v.to_numpy(dtype=object).tolist(), depth + 1),
                                   "name": plain(v.name, depth + 1)}}
        return {"__object__": type(v).__module__ + "." + type(v).__qualname__}

    try:
        names = json.loads(inputs, object_hook=decode)
        value = eval(expr, {**get_ipython().user_ns, **names})
        answer = json.dumps({"value": plain(value)})
    except BaseException as err:
        answer = json.dumps({"error": (type(err).__name__ + ": " + str(err))[:2000]})
    print(nonce + answer, flush=True)


__course_judge_call(NONCE, EXPR, INPUTS)
del __course_judge_call
"""


def _encode(value, depth: int = 0):
    """A judge's input as JSON-able data (numpy arrays tagged, tuples kept)."""
    if depth > MAX_DEPTH:
        raise ValueError("an input of a judge's call is nested too deeply")
    if isinstance(value, (list,)):
        return [_encode(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {str(k): _encode(v, depth + 1) for k, v in value.items()}
    if type(value).__module__ == "numpy" and type(value).__name__ == "ndarray":
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"a judge's call cannot send {type(value).__name__}: send numbers, strings, "
        "lists, tuples, dicts or numpy arrays"
    )


_SAFE_DTYPES = set("biufcUS")  # numbers, booleans and strings; never "O" (objects)


def _array(data, dtype: str):
    import numpy as np

    kind = np.dtype(dtype).kind if isinstance(dtype, str) and len(dtype) < 32 else "O"
    return np.asarray(data, dtype=dtype if kind in _SAFE_DTYPES else None)


def _decode(obj: dict):
    """``json.loads``' object hook: the tags of the kernel's answer back to values."""
    if "__ndarray__" in obj:
        return _array(obj["__ndarray__"], obj.get("dtype"))
    if "__tensor__" in obj:
        return Tensor(_array(obj["__tensor__"], obj.get("dtype")), str(obj.get("framework")))
    if "__tuple__" in obj:
        return tuple(obj["__tuple__"])
    if "__set__" in obj:
        return set(_hashable(x) for x in obj["__set__"])
    if "__dict__" in obj:
        return {_hashable(k): v for k, v in obj["__dict__"]}
    if "__dataframe__" in obj:
        import pandas as pd

        d = obj["__dataframe__"]
        frame = pd.DataFrame(
            d["data"], columns=[_hashable(c) for c in d["columns"]], index=[_hashable(i) for i in d["index"]]
        )
        return frame.infer_objects()
    if "__series__" in obj:
        import pandas as pd

        d = obj["__series__"]
        series = pd.Series(d["data"], index=[_hashable(i) for i in d["index"]], name=_hashable(d["name"]))
        return series.infer_objects()
    if "__object__" in obj:
        return Opaque(str(obj["__object__"])[:200])
    return obj


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, (dict, set)):
        raise StudentError("the answer uses an unhashable key")
    return value


@dataclass
class Student:
    """The judge's handle on one hand-in: calls into its kernel, its cells' sources.

    ``run(code) -> (stdout text, error text or None)`` executes code in the kernel (the grader's
    executor supplies it); ``cells``: the sources of the hand-in's code cells run so far.
    """

    run: Callable[[str], tuple[str, str | None]]
    cells: list[str] = field(default_factory=list)
    calls: int = 0
    seconds: float = 0.0

    def eval(self, expression: str, **inputs):
        """The value of ``expression`` in the notebook's namespace, with ``inputs`` bound to names."""
        nonce = "course-judge-" + secrets.token_hex(12) + ":"
        code = (
            _CALL.replace("MAX_DEPTH", str(MAX_DEPTH))
            .replace("NONCE", repr(nonce))
            .replace("EXPR", repr(expression))
            .replace("INPUTS", repr(json.dumps(_encode(inputs))))
        )
        started = time.perf_counter()
        try:
            text, error = self.run(code)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - started
        line = next((ln for ln in reversed(text.splitlines()) if ln.startswith(nonce)), None)
        if line is None:
            why = error or "the notebook printed no answer (its output may have been cut)"
            raise StudentError(f"{expression}: {why}")
        try:
            answer = json.loads(line[len(nonce) :], object_hook=_decode)
        except (ValueError, TypeError, RecursionError) as err:
            raise StudentError(f"{expression}: the answer is not data ({err})") from None
        if not isinstance(answer, dict) or ("value" not in answer and "error" not in answer):
            raise StudentError(f"{expression}: the answer is not data")
        if "error" in answer:
            raise StudentError(f"{expression} raised {answer['error']}")
        return answer["value"]

    def call(self, name: str, *args, **kwargs):
        """``name(*args, **kwargs)`` in the notebook's kernel; the result as data."""
        if not name.isidentifier():
            raise ValueError(f"not a name: {name!r}")
        arguments = [f"__a{i}" for i in range(len(args))] + [f"{k}=__k_{k}" for k in kwargs]
        inputs = {f"__a{i}": a for i, a in enumerate(args)} | {f"__k_{k}": v for k, v in kwargs.items()}
        return self.eval(f"{name}({', '.join(arguments)})", **inputs)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def source(self, name: str) -> str:
        """The last code cell of the hand-in (as run so far) that defines ``name`` (def, class or
        assignment), read from the notebook; "" when none does."""
        import ast

        from IPython.core.inputtransformer2 import TransformerManager

        for text in reversed(self.cells):
            try:
                tree = ast.parse(TransformerManager().transform_cell(text))  # magics become Python
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            for node in tree.body:
                defines = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                if defines and node.name == name:
                    return text
                targets = node.targets if isinstance(node, ast.Assign) else []
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    return text
        return ""


@dataclass(frozen=True)
class Verdict:
    """What the judged part of one test cell decided."""

    passed: bool
    ename: str = ""
    message: str = ""
    seconds: float = 0.0


def judge(code: str, student: Student, name: str = "hidden tests") -> Verdict:
    """Run the judged part ``code`` of one test cell against ``student``, in a fresh namespace."""
    started = time.perf_counter()
    namespace = {
        "student": student,
        "Tensor": Tensor,
        "Opaque": Opaque,
        "StudentError": StudentError,
        "__name__": "__course_judge__",
    }
    try:
        exec(compile(code, f"<{name}>", "exec"), namespace)  # the instructor's code, never the student's
    except StudentError as err:
        return Verdict(False, "AssertionError", str(err)[:2000], time.perf_counter() - started)
    except Exception as err:  # any: a wrong answer can make any check raise
        return Verdict(False, type(err).__name__, str(err)[:2000], time.perf_counter() - started)
    return Verdict(True, seconds=time.perf_counter() - started)
