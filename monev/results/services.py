"""Results, the entry point the views, the CLI, the API and the documents call:

* :mod:`~monev.results.computing` — the scoring core applied to an event's data
  (:func:`compute`), and the digest of the scores (:func:`scores_digest`);
* :mod:`~monev.results.snapshot` — frozen JSON snapshots (:func:`build_snapshot`), what
  changed between two (:func:`snapshot_changes`), the open-data document (:func:`open_data`);
* :mod:`~monev.results.publication` — :func:`publish` (versions and corrections), its
  confirmation step (:func:`publish_preview`) and the jury's special awards;
* :mod:`~monev.results.acknowledgements` — the organiser's note on each "Check:" of the
  fairness panel, which publishing requires.

Services flush; the request (or the CLI command) commits. The actor is passed in.
"""

from __future__ import annotations

from monev.results.acknowledgements import acknowledge, acknowledge_all
from monev.results.computing import (
    Computed,
    compute,
    compute_from,
    data_digest,
    digest_lines,
    engine_inputs,
    scores_digest,
    unfinished_sheets,
)
from monev.results.publication import (
    PUBLISHABLE,
    Problem,
    PublishPreview,
    add_special_award,
    publish,
    remove_special_award,
)
from monev.results.publication import preview as publish_preview
from monev.results.publication import problems as publish_problems
from monev.results.snapshot import (
    AGREEMENT_KEYS,
    SNAPSHOT_FORMAT,
    Change,
    agreement,
    build_snapshot,
    iso_time,
    open_data,
    snapshot_changes,
)

__all__ = [
    "AGREEMENT_KEYS",
    "Problem",
    "PublishPreview",
    "acknowledge",
    "acknowledge_all",
    "publish_preview",
    "publish_problems",
    "Change",
    "Computed",
    "PUBLISHABLE",
    "SNAPSHOT_FORMAT",
    "add_special_award",
    "agreement",
    "build_snapshot",
    "compute",
    "compute_from",
    "data_digest",
    "digest_lines",
    "engine_inputs",
    "iso_time",
    "open_data",
    "publish",
    "remove_special_award",
    "scores_digest",
    "snapshot_changes",
    "unfinished_sheets",
]
