"""Readable definitions of the nbgrader source notebooks in ``assignments/``.

Each module defines ``NOTEBOOKS``: a mapping ``{assignment name: list of cells}``, built
with the helpers in :mod:`tools.assignment_specs.cells`. ``tools/make_assignments.py``
writes them as ``assignments/<name>/<name>.ipynb`` and derives ``solutions/<name>.ipynb``.
"""
