"""nbgrader's ``collect`` (the exchange's ``inbound/`` into ``submitted/``), with hand-in files as data.

nbgrader 0.9's ``ExchangeCollect`` copies each submission with ``shutil.copytree``, which follows
symbolic links: run by the instructor (or as root on JupyterHub), a link a student left in the
exchange would copy the instructor's files into ``submitted/``, and a FIFO would stop it.
:class:`PlainFilesCollect` copies only plain regular files (:mod:`coursekit.plainfiles`) and
logs every thing it did not copy; a submission that is itself a link is not collected.
``nbgrader_config.py`` sets it (``c.ExchangeFactory.collect``), so ``nbgrader collect`` and the
formgrader's "Collect" button both use it.
"""

from __future__ import annotations

import fnmatch
import os
import stat

from nbgrader.exchange.default.collect import ExchangeCollect

from coursekit import plainfiles


class PlainFilesCollect(ExchangeCollect):
    """``ExchangeCollect`` that copies plain files only and names what it skipped."""

    def do_copy(self, src: str, dest: str, log=None) -> None:
        """Copy the submission ``src`` to ``dest`` as nbgrader does (its ignore, include and size
        rules), without following a link or opening a FIFO or device."""
        dir_size = self.get_size(src)  # nbgrader's own: counts no link
        max_dir_size = self.coursedir.max_dir_size
        if dir_size > 1000 * max_dir_size:
            self.log.error("Directory size is too big")
            raise RuntimeError(
                f"Directory size is too big. Size is {dir_size}, maximum size is {1000 * max_dir_size}"
            )
        exclude, include = self.coursedir.ignore, self.coursedir.include
        max_bytes = 1000 * self.coursedir.max_file_size if self.coursedir.max_file_size else None

        def ignored(rel: str, st: os.stat_result) -> bool:
            name = os.path.basename(rel)
            if exclude and any(fnmatch.fnmatch(name, glob) for glob in exclude):
                return True
            if stat.S_ISREG(st.st_mode):
                if include and not any(fnmatch.fnmatch(name, glob) for glob in include):
                    return True
                if max_bytes and st.st_size > max_bytes:
                    self.log.warning(
                        "Ignoring file too large '%s' (see config option CourseDirectory.max_file_size)",
                        os.path.join(src, rel),
                    )
                    return True
            return False

        submission = os.path.basename(src)
        try:
            skipped = plainfiles.copy_tree(src, dest, ignore=ignored)
        except plainfiles.NotPlain as err:
            self.log.error(
                "Not collected: the submission %s is %s (hand-ins are read as plain files only: "
                "ask the student to submit again)",
                plainfiles.shown(submission),
                err,
            )
            return
        for item in skipped:
            self.log.warning("Not copied from %s: %s", plainfiles.shown(submission), item)
