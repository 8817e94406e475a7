"""Discovery: shapes of pre-surge windows, found without labels of kind.

The training positives (feature rows in the pre-window of an event) are embedded with UMAP and
clustered with HDBSCAN on the embedding; GLOSH outlier scores are the anomaly score. Inputs are
the spec's value features (normalized, z-like) with NaN set to 0 (the typical value) and clipped
to ±``clip``; the ``:missing`` flags are left out (they say nothing about shape).

Each cluster gets a **profile**: its mean of every feature against all positives' mean, in units
of the overall standard deviation, and the features that set it apart most. On a synthetic lake
the clusters are scored against the planted archetypes with the adjusted Rand index (over the
samples HDBSCAN did not call noise, and over all samples with noise as its own label).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

NOISE = -1


class DiscoverySettings(BaseModel):
    """UMAP and HDBSCAN knobs; each field's docstring says what it means (the launchpad shows them)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    n_neighbors: Annotated[int, Field(ge=2)] = 30
    """UMAP neighbours."""
    n_components: Annotated[int, Field(ge=2)] = 2
    """UMAP embedding dimensions."""
    min_dist: Annotated[float, Field(ge=0)] = 0.0
    """UMAP minimum distance between embedded points."""
    min_cluster_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.04
    """HDBSCAN minimum cluster size, as a share of the training positives."""
    min_samples: Annotated[int, Field(ge=1)] = 10
    """HDBSCAN min_samples."""
    clip: Annotated[float, Field(gt=0)] = 5.0
    """Value features are clipped to ±clip (NaN -> 0) before embedding."""
    seed: int = 7
    """UMAP random seed."""


@dataclass
class Discovery:
    """What the discovery stage produces."""

    members: pd.DataFrame  # sample rows: ticker, date, ts_ns, archetype, x, y, cluster, outlier_score
    profiles: list[dict[str, object]]
    ari: float | None
    ari_with_noise: float | None
    noise_fraction: float


def cluster_id(label: int) -> str:
    """Manifest cluster id of an HDBSCAN label (``C01`` for 0; noise has none)."""
    return f"C{label + 1:02d}"


def shape_matrix(frame: pd.DataFrame, value_names: list[str], clip: float) -> np.ndarray:
    """Value features as a finite matrix: NaN -> 0, clipped to ±clip."""
    return np.clip(np.nan_to_num(frame[value_names].to_numpy(dtype=float), nan=0.0), -clip, clip)


def _describe(name: str, shift: float) -> str:
    return f"{name} {'high' if shift > 0 else 'low'} ({shift:+.2f} sd)"


def profiles(x: np.ndarray, labels: np.ndarray, value_names: list[str], top: int = 3) -> list[dict[str, object]]:
    """Per cluster: size, mean per feature in overall-std units from the overall mean, top features."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    out = []
    for label in sorted(set(labels.tolist()) - {NOISE}):
        member = labels == label
        shift = (x[member].mean(axis=0) - mean) / std
        order = np.argsort(-np.abs(shift))[:top]
        out.append(
            {
                "cluster": cluster_id(label),
                "size": int(member.sum()),
                "shift_sd": {name: round(float(s), 3) for name, s in zip(value_names, shift, strict=True)},
                "distinctive": [_describe(value_names[i], float(shift[i])) for i in order],
            }
        )
    return out


def discover(positives: pd.DataFrame, value_names: list[str], settings: DiscoverySettings) -> Discovery:
    """Embed and cluster ``positives`` (rows with the value feature columns)."""
    import hdbscan
    import umap
    from sklearn.metrics import adjusted_rand_score

    needed = max(settings.n_neighbors + 1, 20)
    if len(positives) < needed:
        raise ValueError(f"discovery needs at least {needed} training positives, got {len(positives)}")
    x = shape_matrix(positives, value_names, settings.clip)
    embedding = umap.UMAP(
        n_neighbors=settings.n_neighbors,
        n_components=settings.n_components,
        min_dist=settings.min_dist,
        random_state=settings.seed,
        n_jobs=1,
    ).fit_transform(x)
    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=max(5, int(len(x) * settings.min_cluster_fraction)),
        min_samples=settings.min_samples,
    ).fit(embedding)
    labels = clusterer.labels_.astype(int)
    members = positives[["ticker", "date", "ts_ns", "archetype"]].reset_index(drop=True).copy()
    members["x"], members["y"] = embedding[:, 0], embedding[:, 1]
    members["cluster"] = labels
    members["outlier_score"] = np.nan_to_num(clusterer.outlier_scores_, nan=0.0)
    truth = members["archetype"].fillna("").to_numpy()
    known = truth != ""
    clustered = known & (labels != NOISE)
    ari = float(adjusted_rand_score(truth[clustered], labels[clustered])) if clustered.sum() > 1 else None
    ari_all = float(adjusted_rand_score(truth[known], labels[known])) if known.sum() > 1 else None
    return Discovery(
        members=members,
        profiles=profiles(x, labels, value_names),
        ari=ari,
        ari_with_noise=ari_all,
        noise_fraction=float((labels == NOISE).mean()),
    )


def scatter_png(members: pd.DataFrame) -> bytes:
    """2-D scatter of the embedding: colour = cluster (grey = noise), marker = planted archetype."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), sharex=True, sharey=True)
    for ax, column, title in ((axes[0], "cluster", "HDBSCAN clusters"), (axes[1], "archetype", "planted archetype")):
        values = members[column].astype(str)
        for value in sorted(values.unique()):
            part = members[values == value]
            noise = column == "cluster" and value == str(NOISE)
            label = "noise" if noise else (cluster_id(int(value)) if column == "cluster" else value or "unknown")
            ax.scatter(part["x"], part["y"], s=4, alpha=0.5, c="lightgrey" if noise else None, label=label)
        ax.set_title(title)
        ax.legend(markerscale=3, fontsize=7, loc="best")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()
