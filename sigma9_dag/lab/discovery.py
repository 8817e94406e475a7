"""Discovery: shapes of pre-surge windows, found without labels of kind.

A pre-surge footprint unfolds over 25-50 minutes, so no single instant shows it: discovery embeds
each training **event's trajectory**. For every offset in ``offsets_min`` (minutes from the event's
T0, the dataset's ``t_ref_ns`` of a positive) the event's value features are averaged over its
positives from ``smooth_min`` minutes before the offset up to it (the dataset samples the pre-window
every minute, so a short mean steadies the 15-60 s features); the offsets' vectors are concatenated
into one row per event (optionally with each feature's change between consecutive offsets). Inputs
are the spec's value features (normalized, z-like) clipped to ±``clip``, NaN skipped in the means
and 0 (the typical value) where an offset has none; the ``:missing`` flags are left out (they say
nothing about shape). An offset without any positive (a dropped grid step, the start of the session)
reads 0; an event missing more than ``max_missing_offsets`` offsets is left out and counted.

The event rows are reduced by PCA (the components holding ``pca_variance`` of the variance), embedded
with UMAP and clustered with HDBSCAN on the embedding; GLOSH outlier scores are the anomaly score.
With fewer than ``min_events`` events (or not more than ``n_neighbors``) nothing is clustered: every
event is noise and :attr:`Discovery.note` says why.

The runtime sees one feature row at a time, so every positive of an embedded event inherits its
event's cluster or noise (:attr:`Discovery.members`); distill learns the row -> cluster map from them.

Each cluster gets a **profile**: its mean of every trajectory column (feature at offset) against
all embedded events' mean, in units of their standard deviation, the columns that set it apart most
(``"intensity.volume_rvol_tod_30m at T0-10m high (+1.80 sd)"``) and, on a synthetic lake, its mix of
planted archetypes. The clusters are scored against the planted archetypes with the adjusted Rand
index per event (over the events HDBSCAN did not call noise, and over all with noise as its own label).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sigma9_runtime.units import MINUTE_NS

NOISE = -1
EVENT_KEY = ["ticker", "date", "t_ref_ns"]
"""A positive's event: its ticker-day and T0 (the dataset's ``t_ref_ns`` of a positive)."""
EVENT_COLUMNS = ["ticker", "date", "t0_ns", "archetype", "offsets_found", "x", "y", "cluster", "outlier_score"]
MEMBER_COLUMNS = ["ticker", "date", "ts_ns", "t0_ns", "archetype", "x", "y", "cluster", "outlier_score"]


class DiscoverySettings(BaseModel):
    """Trajectory, UMAP and HDBSCAN knobs; each field's docstring says what it means (the launchpad shows them)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    offsets_min: tuple[int, ...] = (-30, -20, -10, -5)
    """Minutes from the event's T0 at which its trajectory is read (ascending, inside the dataset's pre-window)."""
    smooth_min: Annotated[int, Field(ge=0)] = 4
    """An offset's value is the mean of the event's positives from this many minutes before it up to it (0: the
    positive at the offset)."""
    max_missing_offsets: Annotated[int, Field(ge=0)] = 1
    """An event with more offsets lacking any positive is left out (a missing offset reads 0, the typical value)."""
    differences: bool = False
    """Also embed each feature's change between consecutive offsets."""
    standardize: bool = False
    """Scale each trajectory column to unit variance first (the features are already normalized; scaling lifts
    the noisy 15-60 s features as much as the 15-30 min ones)."""
    pca_variance: Annotated[float, Field(gt=0, le=1)] = 0.8
    """PCA keeps the components holding this share of the trajectories' variance before UMAP (1: no PCA)."""
    n_neighbors: Annotated[int, Field(ge=2)] = 10
    """UMAP neighbours."""
    n_components: Annotated[int, Field(ge=2)] = 2
    """UMAP embedding dimensions."""
    min_dist: Annotated[float, Field(ge=0)] = 0.0
    """UMAP minimum distance between embedded points."""
    min_cluster_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.1
    """HDBSCAN minimum cluster size, as a share of the embedded events (at least 5)."""
    min_samples: Annotated[int, Field(ge=1)] | None = None
    """HDBSCAN min_samples (None: the minimum cluster size)."""
    min_events: Annotated[int, Field(ge=2)] = 20
    """Fewest embedded events to cluster (and more than n_neighbors); with fewer, every event is noise."""
    clip: Annotated[float, Field(gt=0)] = 5.0
    """Value features are clipped to ±clip before averaging (NaN skipped; an offset without a value reads 0)."""
    seed: int = 7
    """UMAP and PCA random seed."""

    @model_validator(mode="after")
    def _offsets(self) -> DiscoverySettings:
        offsets = self.offsets_min
        if not offsets or any(b <= a for a, b in pairwise(offsets)) or offsets[-1] > 0:
            raise ValueError(f"offsets_min: need at least one offset, ascending, none after T0; got {offsets}")
        if self.max_missing_offsets >= len(offsets):
            raise ValueError(
                f"max_missing_offsets ({self.max_missing_offsets}) must leave at least one of {len(offsets)} offsets"
            )
        return self


@dataclass
class Trajectories:
    """One row per training event: its value features at each offset (and their changes), as a matrix."""

    events: pd.DataFrame  # ticker, date, t0_ns, archetype, offsets_found (the events kept, in matrix order)
    matrix: np.ndarray  # events x columns: clipped, averaged per offset (NaN skipped); no value at all is 0
    columns: list[str]  # "<feature>@T0-10m", then with differences "<feature>@T0-20m..T0-10m"
    dropped: int  # events left out: more than max_missing_offsets offsets without a positive


@dataclass
class Discovery:
    """What the discovery stage produces."""

    events: pd.DataFrame  # one row per embedded event: EVENT_COLUMNS
    members: pd.DataFrame  # one row per training positive of an embedded event, its event's: MEMBER_COLUMNS
    profiles: list[dict[str, object]]
    ari: float | None
    ari_with_noise: float | None
    noise_fraction: float
    dropped: int  # events left out for missing offsets
    note: str | None = None  # why nothing was clustered


def cluster_id(label: int) -> str:
    """Manifest cluster id of an HDBSCAN label (``C01`` for 0; noise has none)."""
    return f"C{label + 1:02d}"


def offset_label(offset: int) -> str:
    """``T0-10m`` for -10 (minutes from T0)."""
    return f"T0{offset:+d}m" if offset else "T0"


def trajectories(positives: pd.DataFrame, value_names: list[str], settings: DiscoverySettings) -> Trajectories:
    """Each event's trajectory from its ``positives`` (rows with ``EVENT_KEY``, ``ts_ns``, ``archetype`` and the
    value feature columns), events in T0 order."""
    offsets = settings.offsets_min
    # NaN stays NaN until the mean: an offset reads the mean of the values it has, 0 only when it has none
    clipped = np.clip(positives[value_names].to_numpy(dtype=float), -settings.clip, settings.clip)
    values = pd.DataFrame(clipped, columns=value_names)
    keys = positives[EVENT_KEY].reset_index(drop=True)
    rel = (positives["ts_ns"].to_numpy(np.int64) - positives["t_ref_ns"].to_numpy(np.int64)).astype(np.int64)
    index = pd.MultiIndex.from_frame(
        keys.drop_duplicates().sort_values(["t_ref_ns", "ticker"], kind="stable").reset_index(drop=True)
    )
    blocks, found = [], np.zeros(len(index), np.int64)
    for offset in offsets:
        inside = (rel >= (offset - settings.smooth_min) * MINUTE_NS) & (rel <= offset * MINUTE_NS)
        grouped = values[inside].groupby(pd.MultiIndex.from_frame(keys[inside]))
        found += grouped.size().reindex(index, fill_value=0).to_numpy() > 0
        blocks.append(grouped.mean().reindex(index).fillna(0.0).to_numpy())
    columns = [f"{name}@{offset_label(o)}" for o in offsets for name in value_names]
    if settings.differences:
        at = list(blocks)
        for (a, b), (first, second) in zip(pairwise(offsets), pairwise(at), strict=True):
            blocks.append(second - first)
            columns += [f"{name}@{offset_label(a)}..{offset_label(b)}" for name in value_names]
    matrix = np.hstack(blocks) if len(index) else np.zeros((0, len(columns)))
    archetype = positives.groupby(EVENT_KEY)["archetype"].first().reindex(index).fillna("").to_numpy()
    events = index.to_frame(index=False).rename(columns={"t_ref_ns": "t0_ns"})
    events["archetype"] = archetype
    events["offsets_found"] = found
    kept = found >= len(offsets) - settings.max_missing_offsets
    return Trajectories(
        events=events[kept].reset_index(drop=True),
        matrix=matrix[kept],
        columns=columns,
        dropped=int((~kept).sum()),
    )


def _describe(column: str, shift: float) -> str:
    name, _, where = column.rpartition("@")
    if ".." in where:
        start, end = where.split("..")
        return f"{name} from {start} to {end} {'rising' if shift > 0 else 'falling'} ({shift:+.2f} sd)"
    return f"{name} at {where} {'high' if shift > 0 else 'low'} ({shift:+.2f} sd)"


def profiles(
    x: np.ndarray, labels: np.ndarray, columns: list[str], archetypes: np.ndarray | None = None, top: int = 3
) -> list[dict[str, object]]:
    """Per cluster: size, mean per column in overall-std units from the overall mean, the top columns and, with
    ``archetypes`` (per row, ``""`` unknown), the planted archetypes of its members."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    out = []
    for label in sorted(set(labels.tolist()) - {NOISE}):
        member = labels == label
        shift = (x[member].mean(axis=0) - mean) / std
        order = np.argsort(-np.abs(shift), kind="stable")[:top]
        profile: dict[str, object] = {
            "cluster": cluster_id(label),
            "size": int(member.sum()),
            "shift_sd": {name: round(float(s), 3) for name, s in zip(columns, shift, strict=True)},
            "distinctive": [_describe(columns[i], float(shift[i])) for i in order],
        }
        if archetypes is not None and (archetypes[member] != "").any():
            names, counts = np.unique(archetypes[member], return_counts=True)
            profile["archetypes"] = {str(n) or "unknown": int(c) for n, c in zip(names, counts, strict=True)}
        out.append(profile)
    return out


def archetype_mix(events: pd.DataFrame) -> pd.DataFrame:
    """Events per cluster (rows: ``C01``, ..., ``noise``) and planted archetype (columns); empty without labels."""
    known = events[events["archetype"] != ""]
    if known.empty:
        return pd.DataFrame()
    table = pd.crosstab(known["cluster"], known["archetype"])
    table.index = [("noise" if label == NOISE else cluster_id(int(label))) for label in table.index]
    return table.loc[sorted(table.index, key=lambda c: (c == "noise", c))]


def _plane(x: np.ndarray) -> np.ndarray:
    """The first two principal coordinates of ``x`` (zeros where it has fewer): a plot for unclustered events."""
    centred = x - x.mean(axis=0) if len(x) else x
    plane = np.zeros((len(x), 2))
    if len(x) > 1 and np.any(centred):
        u, s, _ = np.linalg.svd(centred, full_matrices=False)
        k = min(2, s.size)
        plane[:, :k] = u[:, :k] * s[:k]
    return plane


def _reduced(x: np.ndarray, settings: DiscoverySettings) -> np.ndarray:
    from sklearn.decomposition import PCA

    if settings.standardize:
        std = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    if settings.pca_variance < 1 and x.var(axis=0).sum() > 0:
        x = PCA(n_components=settings.pca_variance, svd_solver="full", random_state=settings.seed).fit_transform(x)
    return x


def discover(positives: pd.DataFrame, value_names: list[str], settings: DiscoverySettings) -> Discovery:
    """Embed and cluster the trajectories of the events of ``positives`` (the training positives: ``EVENT_KEY``,
    ``ts_ns``, ``archetype`` and the value feature columns)."""
    from sklearn.metrics import adjusted_rand_score

    found = trajectories(positives, value_names, settings)
    n = len(found.events)
    if n == 0:
        raise ValueError(
            f"discovery needs at least one training event with its trajectory, got none "
            f"({found.dropped} left out: more than {settings.max_missing_offsets} of offsets "
            f"{list(settings.offsets_min)} min without a positive)"
        )
    needed = max(settings.min_events, settings.n_neighbors + 1)
    note = None
    if n < needed:
        note = (
            f"{n} training events embedded; discovery clusters from {needed} (min_events {settings.min_events}, "
            f"n_neighbors {settings.n_neighbors} + 1): no clusters, every event is noise"
        )
        embedding, labels, outlier = _plane(found.matrix), np.full(n, NOISE), np.zeros(n)
    else:
        embedding, labels, outlier = _cluster(found.matrix, settings)
    events = found.events.copy()
    events["x"], events["y"] = embedding[:, 0], embedding[:, 1]
    events["cluster"] = labels
    events["outlier_score"] = outlier
    members = positives[["ticker", "date", "ts_ns", "t_ref_ns", "archetype"]].rename(columns={"t_ref_ns": "t0_ns"})
    members = members.merge(
        events[["ticker", "date", "t0_ns", "x", "y", "cluster", "outlier_score"]],
        on=["ticker", "date", "t0_ns"],
        how="inner",
        validate="many_to_one",
    )
    members = members.sort_values(["t0_ns", "ticker", "ts_ns"], kind="stable").reset_index(drop=True)
    truth = events["archetype"].to_numpy()
    known = truth != ""
    clustered = known & (labels != NOISE)
    ari = float(adjusted_rand_score(truth[clustered], labels[clustered])) if clustered.sum() > 1 else None
    ari_all = float(adjusted_rand_score(truth[known], labels[known])) if known.sum() > 1 else None
    return Discovery(
        events=events[EVENT_COLUMNS],
        members=members[MEMBER_COLUMNS],
        profiles=profiles(found.matrix, labels, found.columns, truth),
        ari=ari,
        ari_with_noise=ari_all,
        noise_fraction=float((labels == NOISE).mean()),
        dropped=found.dropped,
        note=note,
    )


def _cluster(x: np.ndarray, settings: DiscoverySettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(embedding, HDBSCAN labels, GLOSH outlier scores) of the trajectory rows ``x``."""
    import hdbscan
    import umap

    embedding = umap.UMAP(
        n_neighbors=settings.n_neighbors,
        n_components=settings.n_components,
        min_dist=settings.min_dist,
        random_state=settings.seed,
        n_jobs=1,
    ).fit_transform(_reduced(x, settings))
    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=max(5, round(len(x) * settings.min_cluster_fraction)),
        min_samples=settings.min_samples,
    ).fit(embedding)
    return embedding, clusterer.labels_.astype(int), np.nan_to_num(clusterer.outlier_scores_, nan=0.0)


def scatter_png(events: pd.DataFrame) -> bytes:
    """2-D scatter of the embedded events: colour = cluster (grey = noise), right panel = planted archetype."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), sharex=True, sharey=True)
    panels = (
        (axes[0], "cluster", "HDBSCAN clusters", plt.get_cmap("tab10")),
        (axes[1], "archetype", "planted archetype", plt.get_cmap("Dark2")),  # other colours: no false match
    )
    for ax, column, title, palette in panels:
        values = events[column].astype(str)
        for k, value in enumerate(sorted(values.unique(), key=lambda v: (v != str(NOISE), v))):
            part = events[values == value]
            noise = column == "cluster" and value == str(NOISE)
            label = "noise" if noise else (cluster_id(int(value)) if column == "cluster" else value or "unknown")
            colour = "lightgrey" if noise else palette(k % palette.N)
            ax.scatter(part["x"], part["y"], s=16, alpha=0.7, color=colour, label=label)
        ax.set_title(title)
        ax.legend(markerscale=1.5, fontsize=7, loc="best")
    fig.suptitle(f"{len(events)} training events, each embedded by its pre-window trajectory", fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()
