"""The ``skypilot-check`` builder: every check of :mod:`slurm2sky.sphinx.checks`, reported.

``sphinx-build -b skypilot-check docs out`` reads the guide as any build does, then,
like ``doctest`` and ``linkcheck``, walks every page's doctree (all pages, every run)
and the mappings file, and

- logs each failure as the same located, typed warning an HTML build gives
  (``[slurm2sky.yaml]``, ``[slurm2sky.command]``, ...), so ``-W`` behaves the same;
- honours ``suppress_warnings`` as an HTML build does: a failure of a suppressed kind
  (``"slurm2sky.command"``, or ``"slurm2sky"`` for all) is neither printed nor counted
  as a failure; the reports list it as suppressed;
- writes ``out/output.txt``: one ``file:line: [tag] message`` line per checked item,
  where tag is a failure's subtype (``yaml``, ``kind``, ``command``, ``deprecated``,
  ``variable``), ``suppressed <subtype>`` for a suppressed one, ``partial``/``none``
  for a YAML block deliberately not validated, or ``ok`` (a task with a null env reads
  "valid task, needs --env X");
- writes ``out/output.json``: one JSON object per line and item (``filename``,
  ``lineno``, ``column``, ``docname``, ``item``, ``status`` = ok | skipped | failure |
  suppressed, ``tag``, ``message``, and facts such as ``kind``, ``engine``, ``argv``,
  ``code``);
- prints a summary, and sets the exit status to 1 when anything failed that is not
  suppressed (even without ``-W``).

It runs whatever ``slurm2sky_check`` says (asking for the builder is asking for the
checks); in its own builds the read-time checks stay off, so nothing is reported twice.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sphinx.builders import Builder
from sphinx.util import logging
from sphinx.util.console import bold

from slurm2sky.sphinx import checks

if TYPE_CHECKING:
    from collections.abc import Set

    from docutils import nodes

logger = logging.getLogger(__name__)


class SkyPilotCheckBuilder(Builder):
    """Check the guide's examples against SkyPilot; report in output.txt/output.json."""

    name = "skypilot-check"
    epilog = "Look for any errors in the above output or in %(outdir)s/output.txt"

    def init(self) -> None:
        self.findings: list[checks.Finding] = []

    def get_outdated_docs(self) -> set[str]:
        return self.env.found_docs

    def get_target_uri(self, docname: str, typ: str | None = None) -> str:
        return ""

    def prepare_writing(self, docnames: Set[str]) -> None:
        pass

    def write_doc(self, docname: str, doctree: nodes.document) -> None:  # pragma: no cover
        pass  # write_documents does the work

    def write_documents(self, docnames: Set[str]) -> None:
        logger.info(bold("checking examples against SkyPilot..."))
        settings = self._settings()
        for docname in sorted(docnames):
            doctree = self.env.get_doctree(docname)
            found = checks.check_doctree(
                doctree, docname, str(self.env.doc2path(docname)), settings
            )
            checks.warn(found, self._doc_path, self.config.suppress_warnings)
            self.findings.extend(found)

    def _settings(self) -> checks.Settings:
        return checks.Settings.from_config(self.config, self.srcdir, self.confdir)

    def _doc_path(self, docname: str) -> str:
        return str(self.env.doc2path(docname))

    def finish(self) -> None:
        settings = self._settings()
        silenced = list(self.config.suppress_warnings)
        mappings = checks.loaded_mappings(self.srcdir, self.config)
        mapping_findings = [] if mappings is None else checks.check_mappings(mappings, settings)
        checks.warn(mapping_findings, self._doc_path, silenced)
        findings = [*self.findings, *mapping_findings]
        srcdir = str(self.srcdir)
        self.outdir.mkdir(parents=True, exist_ok=True)
        with (self.outdir / "output.txt").open("w", encoding="utf-8") as text:
            for line in checks.text_lines(findings, srcdir, silenced):
                text.write(line + "\n")
        with (self.outdir / "output.json").open("w", encoding="utf-8") as out:
            for finding in findings:
                item = finding.as_json(srcdir)
                if checks.suppressed(finding, silenced):
                    item["status"] = "suppressed"
                out.write(json.dumps(item, ensure_ascii=False) + "\n")
        quiet = [finding for finding in findings if checks.suppressed(finding, silenced)]
        counts = checks.summary(f for f in findings if not checks.suppressed(f, silenced))
        failures = sum(n for tag, n in counts.items() if tag in checks.SUBTYPES)
        items = {"yaml": 0, "command": 0, "variable": 0}
        for finding in findings:
            items[finding.item] = items.get(finding.item, 0) + 1
        skipped = counts.get("partial", 0) + counts.get("none", 0)
        logger.info("")
        logger.info(
            bold("skypilot-check summary")
            + f" (SkyPilot {settings.release}, {settings.engine} engine): "
            f"{items['yaml']} YAML items, {items['command']} commands, "
            f"{items['variable']} variables; {counts.get('ok', 0)} ok, {skipped} skipped "
            f"(partial/none), {failures} failure{'s' if failures != 1 else ''}"
            + (f", {len(quiet)} suppressed" if quiet else "")
            + (
                " (" + ", ".join(f"{counts[t]} {t}" for t in checks.SUBTYPES if t in counts) + ")"
                if failures
                else ""
            )
        )
        if failures:
            self._app.statuscode = 1
