"""Grading, one job per module, as nbgrader keeps one preprocessor per file.

* :mod:`~coursekit.grade.batch`: every hand-in on its own, several at once; the report;
* :mod:`~coursekit.grade.worker`: a process that autogrades one student after another;
* :mod:`~coursekit.grade.cluster`: the same grading on the workers of a Dask cluster (``--scheduler``);
* :mod:`~coursekit.grade.progress`: the progress line of a grading run;
* :mod:`~coursekit.grade.execute`: ``GuardedExecute``, nbgrader's Execute with a tamper guard;
* :mod:`~coursekit.grade.jail`: the one isolation module: bubblewrap, cgroups and rlimits around each
  kernel, entered cold or warm;
* :mod:`~coursekit.grade.warm`: the warm way in: kernels forked from a process that imported the framework;
* :mod:`~coursekit.grade.limits`: ``LimitOutputBytes``, output size per cell;
* :mod:`~coursekit.grade.feedback`: ``HideHiddenTests``, feedback without hidden tests;
* :mod:`~coursekit.grade.checks`: rules read from the source with ``ast``;
* :mod:`~coursekit.grade.gradebook`: where the gradebook lives.
"""
