# nbgrader workflow for instructors (the README, "Instructors"). Included by the Makefile
# (`include mk/*.mk`), which defines PY and the `setup` target.
#
# Each target is one `coursekit` subcommand (`coursekit --help`); the Makefile only adds setup.
#
#   make assignments                           sources + solutions from assignments/*.py, release/
#   make collect HANDINS=dir [ASSIGNMENT=name]  downloaded notebooks -> submitted/<student>/<assignment>/;
#                                               HANDINS may be an LMS .zip (Moodle, Canvas: coursekit.handins)
#   make grade [ASSIGNMENT=name] [JOBS=n]       repair + autograde each submission on its own (n at once,
#                                               default one per core), feedback/,
#                                               grades.csv and grading_report.csv (graded / not graded: reason)
#   make feedback [ASSIGNMENT=name]             after manual grading: feedback/ and grades.csv again
#   make check-assignments                      fail if assignments/ or solutions/ differ from the specs
#   make selfcheck [ASSIGNMENT=name]            autograde the worked solutions in a scratch copy: all pass

.PHONY: assignments collect grade feedback check-assignments selfcheck

assignments: setup
	$(KIT) release $(ASSIGNMENT)

collect: setup
	@test -n "$(HANDINS)" || { echo "usage: make collect HANDINS=folder|file.zip [ASSIGNMENT=name]" >&2; exit 2; }
	$(KIT) collect "$(HANDINS)" $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

grade: setup
	$(KIT) grade $(ASSIGNMENT) $(if $(JOBS),--jobs $(JOBS))

feedback: setup
	$(KIT) feedback $(ASSIGNMENT)

check-assignments: setup
	$(KIT) check

selfcheck: setup
	$(KIT) selfcheck $(ASSIGNMENT)
