"""Every script of the dev corpus (``../shared/corpus/sbatch-dev/``) parses, fully accounted.

The corpus is read where it lies (``$SLURM2SKY_CORPUS`` or ``shared/corpus/sbatch-dev``
beside the repository); the tests are skipped when it is absent.
"""

from __future__ import annotations

from collections import Counter

from corpus import corpus, needs_corpus
from slurm2sky.sbatch import parse_script
from test_sbatch_properties import expected_words

pytestmark = needs_corpus


def test_every_corpus_script_parses_and_every_word_is_accounted_for() -> None:
    scripts = corpus()
    assert len(scripts) > 1000
    rejected: Counter[str] = Counter()
    directives = unknown = 0
    for name, text in scripts:
        result = parse_script(text, path=name)
        claimed = [t for d in result.directives for t in d.tokens]
        assert claimed == expected_words(text), name
        directives += len(result.directives)
        unknown += sum(p.kind == "unknown-option" for p in result.problems)  # type: ignore[attr-defined]
        for kind in {p.kind for p in result.problems}:  # type: ignore[attr-defined]
            rejected[kind] += 1
        for problem in (*result.problems, *result.foreign):
            assert problem.message and problem.line >= 0, name
    print(
        f"\n{len(scripts)} scripts, {sum(1 for n, t in scripts if parse_script(t).rejected)} "
        f"rejected by sbatch ({dict(rejected.most_common())}), {directives} directives, "
        f"{unknown} unknown options"
    )
    # Facts of the corpus (sbatch-in-the-wild.md): ~1% without a shebang at byte 0,
    # ~0.5% with CRLF; most scripts are accepted.
    assert rejected["no-shebang"] < len(scripts) * 0.03
    assert 0 < rejected["crlf"] < len(scripts) * 0.02
    assert sum(rejected.values()) < len(scripts) * 0.2
