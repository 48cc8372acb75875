"""nbgrader configuration: the repository root is the course directory.

    assignments/<name>/<name>.ipynb   sources (instructor master copies, in git)
    solutions/<name>.ipynb            worked solutions, generated from the sources (in git)
    release/ submitted/ autograded/ feedback/ gradebook.db   generated, git-ignored

Course settings (id, limits) come from course.toml; the preprocessors are coursekit's,
imported by module name (coursekit is installed: `make setup`). See the README, "Instructors".
"""

import os

from coursekit.config import Course, environment
from coursekit.grade.gradebook import gradebook_url

course = Course.load(os.path.dirname(os.path.abspath(__file__)))  # course.toml beside this file
c = get_config()  # provided by nbgrader

# The folder of this file, as an absolute path (nbgrader warns about a relative root).
c.CourseDirectory.root = str(course.root)
c.CourseDirectory.course_id = course.id
c.CourseDirectory.source_directory = "assignments"
c.CourseDirectory.solution_directory = "solutions"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# SQLite in the course directory, or a database server for several graders:
# COURSE_GRADEBOOK_URL=postgresql://user:pass@host/db (coursekit.grade.gradebook; README, "Several graders").
c.CourseDirectory.db_url = gradebook_url(c.CourseDirectory.root)
# A course-local exchange (git-ignored), so the formgrader and the students' "Assignments"
# panel work on one machine without JupyterHub; Colab/LMS hand-ins use `make collect` instead.
c.Exchange.root = str(course.root / "exchange")
# `nbgrader collect` (and the formgrader's Collect) copy plain files only, never through a link
# a student left in the exchange (coursekit.exchange)
c.ExchangeFactory.collect = "coursekit.exchange.PlainFilesCollect"
# Only the notebooks of an assignment folder are graded; data files students bring along
# (the bonus of param_study) are copied next to them.
# `*.orig`: the hand-in as it was, kept by coursekit.repair when it repaired the notebook.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store", "*.orig"]

# Student versions: solution regions become a stub that fails loudly, written answers a prompt.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearSolutions.enforce_metadata = True

# Autograding executes every submission in a fresh kernel with NBGRADER_EXECUTION=autograde,
# which switches course_utils to fast mode: small data subsets, one short epoch, tiny sizes.
# nbgrader's default per-cell timeout (30 s) would kill a training cell on a slow or busy
# machine; course.toml's [grading] cell_timeout_s still stops an endless loop ($COURSE_GRADING_TIMEOUT
# overrides it: the tests use a short one). Note: ExecutePreprocessor.timeout is ignored by
# nbgrader, it must be Execute.timeout (nbgrader issues #1004, #1463).
c.Execute.timeout = environment().cell_timeout_s or course.grading.cell_timeout_s
c.Execute.interrupt_on_timeout = True
c.Execute.kernel_name = "python3"

# Student versions are released without outputs.
c.ClearOutput.enabled = True

# Execute with a tamper guard before every test cell and a report of the cell in which the
# kernel died (coursekit.grade.execute); the other steps are nbgrader's defaults.
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from coursekit.grade.execute import GuardedExecute  # noqa: E402
from coursekit.grade.feedback import FeedbackExporter, HideHiddenTests  # noqa: E402
from coursekit.grade.limits import LimitOutputBytes  # noqa: E402
from coursekit.grade.sanitize import SanitizeHandin  # noqa: E402

c.LimitOutputBytes.max_text_bytes = course.grading.output_text_bytes
c.LimitOutputBytes.max_bytes = course.grading.output_total_bytes

c.Autograde.autograde_preprocessors = [
    GuardedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    LimitOutputBytes,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
    # last, after the grades are saved: no student HTML or JavaScript runs in the formgrader, which
    # shows this autograded notebook on the instructor's Jupyter origin (coursekit.grade.sanitize)
    SanitizeHandin,
]

# Feedback for students shows whether hidden tests passed and their message, not their code
# (coursekit.grade.feedback), and no HTML or JavaScript of the hand-in that would run (again: a
# notebook autograded before SanitizeHandin was configured is cleaned here).
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, SanitizeHandin, CSSHTMLHeaderPreprocessor]
# nbconvert's HTML exporter, with its templates compiled once per grading worker, not per student
c.GenerateFeedback.exporter_class = FeedbackExporter
