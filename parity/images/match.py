"""One-to-one peak matching (Hungarian, ``scipy.optimize.linear_sum_assignment``) with a gate.

Rule: among all one-to-one pairings of reference and candidate peaks, take the one that first
maximises the number of pairs closer than or at ``gate_px`` and then minimises their summed
Euclidean distance; pairs beyond the gate are not matches. The matched fraction has a **fixed
denominator: the number of reference peaks given** (the reference's top N), never min(n_ref, n_cand).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from parity.errors import ParityUsageError
from parity.images.metrics import NotAvailable

__all__ = ["PeakMatch", "match_peaks", "DENOMINATOR_RULE"]

DENOMINATOR_RULE = "number of reference peaks compared (the reference's top N)"


@dataclass(frozen=True, eq=False)
class PeakMatch:
    """Result of :func:`match_peaks`; indices refer to the input position arrays.

    ``pairs`` is (M, 2) int (ref index, cand index), sorted by ref index; ``distances_px`` (M,);
    ``missing`` are unmatched reference indices, ``extra`` unmatched candidate indices.
    """

    pairs: np.ndarray
    distances_px: np.ndarray
    missing: np.ndarray
    extra: np.ndarray
    n_ref: int
    n_cand: int
    gate_px: float

    @property
    def n_matched(self) -> int:
        return int(self.pairs.shape[0])

    @property
    def denominator(self) -> int:
        """Fixed denominator of :attr:`matched_fraction`: the number of reference peaks."""
        return self.n_ref

    @property
    def matched_fraction(self) -> float | NotAvailable:
        """n_matched / n_ref; n/a when there is no reference peak."""
        if self.n_ref == 0:
            return NotAvailable("the reference has no peak")
        return self.n_matched / self.n_ref


def _validate_positions(positions: object, name: str) -> np.ndarray:
    array = np.asarray(positions, dtype=np.float64)
    if array.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ParityUsageError(f"{name} must be an (N, 2) array of (slow, fast), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ParityUsageError(f"{name} holds NaN/Inf positions")
    return array


def _validate_gate(gate_px: float) -> float:
    if isinstance(gate_px, bool) or not isinstance(gate_px, (int, float, np.integer, np.floating)) \
            or not math.isfinite(gate_px) or gate_px < 0:
        raise ParityUsageError(f"gate_px must be a finite number >= 0 (pixels), got {gate_px!r}")
    return float(gate_px)


def match_peaks(ref_positions_px: np.ndarray, cand_positions_px: np.ndarray, *, gate_px: float) -> PeakMatch:
    """Match candidate peaks to reference peaks one-to-one within ``gate_px``.

    Parameters
    ----------
    ref_positions_px, cand_positions_px : array of shape (N, 2) and (M, 2)
        (slow, fast) positions in pixels, e.g. ``PeakList.positions_px``; either may be empty.
    gate_px : float, >= 0
        Largest distance (inclusive) of a matched pair, in pixels.

    Returns
    -------
    PeakMatch

    Examples
    --------
    >>> m = match_peaks([[10, 10], [20, 20]], [[10, 11], [50, 50]], gate_px=1.5)
    >>> m.pairs.tolist(), m.missing.tolist(), m.extra.tolist(), m.matched_fraction
    ([[0, 0]], [1], [1], 0.5)
    """
    ref = _validate_positions(ref_positions_px, "ref_positions_px")
    cand = _validate_positions(cand_positions_px, "cand_positions_px")
    gate = _validate_gate(gate_px)
    n_ref, n_cand = len(ref), len(cand)
    pairs, dists = _assign(ref, cand, gate)
    missing = np.setdiff1d(np.arange(n_ref), pairs[:, 0]).astype(np.int64)
    extra = np.setdiff1d(np.arange(n_cand), pairs[:, 1]).astype(np.int64)
    return PeakMatch(pairs=pairs, distances_px=dists, missing=missing, extra=extra,
                     n_ref=n_ref, n_cand=n_cand, gate_px=gate)


def _assign(ref: np.ndarray, cand: np.ndarray, gate: float) -> tuple[np.ndarray, np.ndarray]:
    """Hungarian assignment solved separately on each connected group of in-gate pairs (equivalent
    to one global solve, but memory scales with the pairs, not n_ref x n_cand)."""
    empty = (np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.float64))
    if len(ref) == 0 or len(cand) == 0:
        return empty
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    near = cKDTree(cand).query_ball_point(ref, r=gate)
    edge_ref = np.repeat(np.arange(len(ref)), [len(n) for n in near])
    edge_cand = np.fromiter((j for n in near for j in n), dtype=np.int64, count=len(edge_ref))
    if len(edge_ref) == 0:
        return empty
    n_nodes = len(ref) + len(cand)
    graph = coo_matrix((np.ones(len(edge_ref)), (edge_ref, edge_cand + len(ref))), shape=(n_nodes, n_nodes))
    _, group = connected_components(graph, directed=False)
    ref_group, cand_group = group[: len(ref)], group[len(ref):]
    r_order, c_order = np.argsort(ref_group, kind="stable"), np.argsort(cand_group, kind="stable")
    r_sorted, c_sorted = ref_group[r_order], cand_group[c_order]
    out_pairs, out_dists = [], []
    for g in np.unique(ref_group[edge_ref]):
        r_idx = r_order[np.searchsorted(r_sorted, g, "left"):np.searchsorted(r_sorted, g, "right")]
        c_idx = c_order[np.searchsorted(c_sorted, g, "left"):np.searchsorted(c_sorted, g, "right")]
        dist = np.sqrt(((ref[r_idx, None, :] - cand[None, c_idx, :]) ** 2).sum(axis=2))
        inside = dist <= gate
        # a pair outside the gate costs more than all in-gate pairs together, so the assignment
        # first maximises the number of in-gate pairs, then minimises their total distance
        outside_cost = (min(len(r_idx), len(c_idx)) + 1) * (gate + 1.0)
        rows, cols = linear_sum_assignment(np.where(inside, dist, outside_cost))
        keep = inside[rows, cols]
        out_pairs.append(np.column_stack([r_idx[rows[keep]], c_idx[cols[keep]]]))
        out_dists.append(dist[rows[keep], cols[keep]])
    pairs = np.concatenate(out_pairs).astype(np.int64).reshape(-1, 2)
    dists = np.concatenate(out_dists)
    order = np.argsort(pairs[:, 0], kind="stable")
    return pairs[order], dists[order]
