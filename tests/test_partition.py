"""The k-means partition (nbvec._partition) and the planner's use of it for
filters whose matches lie away from the queries: exact when every list is
read, recall against numpy brute force at the calibrated reach, fewer rows
read than the matches, and the planner's choice end to end."""

import numpy as np
import pytest
from conftest import (
    GRAPH_FRAME,
    brute_force,
    mean_recall,
    planner_costs,
    recall_at,
    reference_scores,
    sealed_plan,
)

from nbvec import VectorFrame
from nbvec._config import EngineConfig
from nbvec._distance import metric_for
from nbvec._partition import REACHES, Partition, _positions, _ranges, n_lists_for
from nbvec._search import exact_topk

D = 32
DISTANCES = ["Cosine", "Dot", "Euclid"]


N, N_CLUSTERS, SELECTED = 10_000, 500, 150  # the filter: the first 150 clusters (30%)
WHERE = f"cluster < {SELECTED}"


@pytest.fixture(scope="module")
def world():
    """Many small clusters (as the benchmark's), queries in clusters the
    filter leaves out: the top-10 matches spread over several other
    clusters, so reading only the lists nearest the query misses some."""
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(N_CLUSTERS, D)).astype(np.float32)
    labels = rng.integers(0, N_CLUSTERS, N)
    x = centres[labels] + 0.6 * rng.normal(size=(N, D)).astype(np.float32)
    away = rng.integers(SELECTED, N_CLUSTERS, 60)
    queries = centres[away] + 0.6 * rng.normal(size=(60, D)).astype(np.float32)
    return x, labels, queries


@pytest.fixture(scope="module", params=DISTANCES)
def built(request, world):
    x, _, _ = world
    metric = metric_for(request.param)
    stored = metric.prepare(x)
    sq = np.einsum("ij,ij->i", stored, stored)
    return request.param, metric, stored, Partition.build(stored, metric, seed=3, sqnorms=sq)


def test_ranges_concatenate_each_range():
    starts, counts = np.array([5, 0, 9, 2]), np.array([2, 0, 3, 1])
    want = [i for s, c in zip(starts, counts) for i in range(s, s + c)]
    assert _ranges(starts, counts).tolist() == want


def test_positions_index_the_ranges_without_making_them():
    rng = np.random.default_rng(0)
    starts, counts = rng.integers(0, 1000, 40), rng.integers(0, 30, 40)
    ranges = _ranges(starts, counts)
    at = rng.choice(len(ranges), 25, replace=False)
    assert _positions(starts, counts, at).tolist() == ranges[at].tolist()


def test_list_count_grows_as_the_square_root():
    assert [n_lists_for(n) for n in (10, 1000, 10_000, 100_000)] == [1, 62, 400, 1264]


def test_every_row_sits_in_its_nearest_list(built):
    _, _, stored, part = built
    x, c = stored.astype(np.float64), part.centroids.astype(np.float64)
    d2 = (x**2).sum(1)[:, None] - 2 * x @ c.T + (c**2).sum(1)[None]
    assert np.allclose(d2[np.arange(len(stored)), part.lists], d2.min(1), rtol=1e-4, atol=1e-3)
    assert part.spread.shape == (len(part.centroids),) and (part.spread >= 0).all()


@pytest.mark.parametrize("k", [1, 10, 500])
def test_reading_every_list_is_exact(built, world, k):
    """reach = inf reads every list: the same rows and scores as the exact
    kernel over the matches (the odd rows)."""
    _, metric, stored, part = built
    queries = world[2]
    rows = np.arange(1, len(stored), 2)
    q = metric.prepare(queries[:5])
    got_rows, got_scores, scored = part.topk(q, part.group(rows), k, reach=np.inf)
    pos, want_scores = exact_topk(metric, q, stored[rows], None, None, k)
    np.testing.assert_array_equal(got_rows, rows[pos])
    np.testing.assert_allclose(got_scores, want_scores, rtol=1e-6, atol=1e-6)
    assert scored == 5 * (len(rows) + min(k, len(rows)))


def test_batch_equals_one_query_at_a_time(built, world):
    _, metric, stored, part = built
    matches = part.group(np.flatnonzero(world[1] < SELECTED))
    q = metric.prepare(world[2][:8])
    rows, scores, _ = part.topk(q, matches, 10)
    for i in range(len(q)):
        one_rows, one_scores, _ = part.topk(q[i : i + 1], matches, 10)
        assert rows[i].tolist() == one_rows[0].tolist()
        assert scores[i].tolist() == one_scores[0].tolist()


@pytest.fixture
def selected(built, world):
    """The filter ``labels < SELECTED`` (whole clusters, the queries elsewhere):
    (its rows, their Grouped, the prepared queries, each query's exact top-10 rows)."""
    _, metric, stored, part = built
    _, labels, queries = world
    rows = np.flatnonzero(labels < SELECTED)
    q = metric.prepare(queries)
    return rows, part.group(rows), q, rows[exact_topk(metric, q, stored[rows], None, None, 10)[0]]


def test_calibrated_reach_finds_matches_away_from_the_query(built, world, selected):
    """Whole clusters selected, queries elsewhere: recall@10 >= 0.95 against
    numpy brute force over the matches, every score that row's exact score,
    reading fewer rows than the matches."""
    distance, _, _, part = built
    x, _, queries = world
    rows, matches, q, _ = selected
    assert np.isfinite(part.reach)
    got, scores, scored = part.topk(q, matches, 10)
    match = {int(i): x[i] for i in rows}
    recalls = []
    for q, found, found_scores in zip(queries, got, scores):
        recalls.append(recall_at(found.tolist(), brute_force(distance, match, q, 10)[0], 10))
        np.testing.assert_allclose(found_scores, reference_scores(distance, x[found], q),
                                   rtol=1e-4, atol=1e-4)
    assert np.mean(recalls) >= 0.95, np.mean(recalls)
    assert scored < 0.8 * len(queries) * len(rows)


def test_the_reach_matters(built, selected):
    """Reading just the lists nearest the query (a small reach) misses
    matches the calibrated reach finds: the calibration is not idle."""
    part = built[3]
    _, matches, q, truth = selected

    def recall(reach):
        return mean_recall(part.topk(q, matches, 10, reach)[0], truth)

    assert recall(0.3) < 0.93 and recall(None) >= 0.95


def test_a_filters_own_reach_reaches_the_target_reading_less(built, selected):
    """``calibrate_for`` a filter (its matches): recall@10 >= 0.95 for the
    queries it rules out, against numpy brute force; for a filter whose
    matches lie everywhere (every other row) it settles on a smaller reach
    than the build's stand-in for the hardest filters, reading fewer rows."""
    _, _, stored, part = built
    _, clusters, q, truth = selected
    clusters.reach = part.reach_for("clusters", clusters, EngineConfig())
    assert np.isfinite(clusters.reach)
    got = part.topk(q, clusters, 10)[0]  # the filter's own reach
    assert mean_recall(got, truth) >= 0.95
    everywhere = part.group(np.arange(0, len(stored), 2))
    reach = part.calibrate_for(everywhere, 0.97)
    assert part.reach > REACHES[0]  # the build's reach may go lower on the grid
    assert reach < part.reach
    # a smaller reach reads fewer rows
    assert part.topk(q, everywhere, 10, reach)[2] < part.topk(q, everywhere, 10)[2]


def test_a_filters_own_reach_needs_matches_and_rows_outside(built):
    """Too few matches to rank, or too few rows outside the filter to ask
    as queries: every list is read (reach inf)."""
    _, _, stored, part = built
    assert part.calibrate_for(part.group(np.arange(5)), 0.97) == np.inf
    assert part.calibrate_for(part.group(np.arange(len(stored) - 10)), 0.97) == np.inf


def test_a_filters_reach_is_kept_until_its_matches_change(built, selected, monkeypatch):
    """``reach_for`` calibrates a filter once and reuses the reach for a new
    copy of about the same matches; a count off by more than 10% calibrates
    again."""
    part, rows, config = built[3], selected[0], EngineConfig()
    calls = []
    calibrate = Partition.calibrate_for
    monkeypatch.setattr(Partition, "calibrate_for",
                        lambda self, *a, **kw: calls.append(1) or calibrate(self, *a, **kw))
    first = part.reach_for("kept", part.group(rows), config)
    assert part.reach_for("kept", part.group(rows[:-5]), config) == first and len(calls) == 1
    part.reach_for("kept", part.group(rows[: len(rows) // 2]), config)
    assert len(calls) == 2


def test_a_filters_reach_asks_only_searchable_rows(built, world, selected):
    """Rows deleted or lacking the vector (stored as zeros) are never asked
    as calibration queries: with most rows outside the filter zeroed out and
    masked, the reach is the one the live rows alone give."""
    distance, metric, stored, part = built
    labels, rows = world[1], selected[0]
    live = np.zeros(len(stored), dtype=bool)
    live[rows] = True
    live[np.flatnonzero(labels >= SELECTED)[:400]] = True  # 400 live rows outside the filter
    zeroed = Partition(part.centroids, part.lists, part.spread, metric,
                       np.where(live[:, None], stored, 0).astype(np.float32), part.reach)
    matches = zeroed.group(rows)
    asked = zeroed.calibrate_for(matches, 0.97, among=live)
    assert asked == part.calibrate_for(part.group(rows), 0.97, among=live)
    if distance != "Euclid":  # zero queries score 0 against every match (Cosine, Dot): no
        # reach reaches 0.97; Euclid's ask the nearest matches to the origin, which it finds
        assert zeroed.calibrate_for(matches, 0.97) == np.inf


def test_fewer_matches_than_k_returns_them_all(built):
    _, _, stored, part = built
    rows = np.array([3, 1000, 4321])
    got, _, _ = part.topk(stored[:2], part.group(rows), 10)
    assert got.shape == (2, 3) and all(set(r) == {3, 1000, 4321} for r in got.tolist())
    got, scores, _ = part.topk(stored[:2], part.group(np.array([], dtype=np.int64)), 10)
    assert got.shape == (2, 0) and scores.shape == (2, 0)


def test_build_is_deterministic_for_a_seed(world):
    metric = metric_for("Cosine")
    stored = metric.prepare(world[0][:3000])
    a, b = (Partition.build(stored, metric, seed=5) for _ in range(2))
    np.testing.assert_array_equal(a.centroids, b.centroids)
    assert a.lists.tolist() == b.lists.tolist() and a.reach == b.reach


def test_manhattan_is_not_supported():
    assert not Partition.supports(metric_for("Manhattan"))
    assert all(Partition.supports(metric_for(d)) for d in DISTANCES)


# -- the planner, end to end ---------------------------------------------------------
def _frame(world, distance="Cosine", **options):
    x, labels, _ = world
    vf = VectorFrame(D, distance, **{**GRAPH_FRAME, **options})
    vf.upsert(np.arange(len(x)), x, payload=[{"cluster": int(c)} for c in labels.tolist()])
    return vf


def _learn_misses(vf, where):
    """Record that the index left 4 of 4 queries under ``where`` short, as
    the index does itself when the matches lie away (Cosine here; with Dot
    or Euclid on this data, the traversal fallback catches them instead)."""
    engine = vf._engine
    allowed = vf._allowed(None, where, None, None)
    for seg in engine.segments:
        if seg.indexes:
            engine._add_to_tally(seg, "misses", "", allowed, 4, 4)


@pytest.mark.parametrize("distance", DISTANCES)
def test_planner_probes_a_partition_for_matches_away(world, exact_looks_dear, distance):
    """Once the index has left queries short under a filter, the planner
    builds the partition and probes it; recall against brute force, every
    hit a match, and one partition kept across searches."""
    x, labels, queries = world
    vf = _frame(world, distance)
    if distance == "Cosine":
        vf.search(queries[:4], where=WHERE, limit=10)  # the index misses: learnt
    else:
        _learn_misses(vf, WHERE)
        vf.search(queries[0], where=WHERE, limit=10)  # seen once: a copy of the matches pays
    plan = sealed_plan(vf, queries[4:8], where=WHERE)
    assert plan["strategy"] == "partition" and "away from the queries" in plan["reason"]
    seg = max(vf._engine.segments, key=lambda s: s.n)
    part = seg.partitions[""]
    results = vf.search(queries, where=WHERE, limit=10)
    match = {int(i): x[i] for i in np.flatnonzero(labels < SELECTED)}
    recall = mean_recall([r.ids for r in results],
                         [ids for ids, _ in brute_force(distance, match, queries, 10)])
    assert all(set(r.ids) <= set(match) for r in results)
    assert recall >= 0.95, recall
    assert seg.partitions[""] is part
    assert plan["scored"] < 4 * (len(match) + 10)  # fewer rows read than the matches


def test_writes_keep_the_partition_and_refresh_the_matches(world, exact_looks_dear):
    """A deleted match disappears, a payload change moves a point into the
    filter; the partition (over the segment's vectors) stays."""
    x, labels, queries = world
    vf = _frame(world)
    vf.search(queries[:4], where=WHERE, limit=10)
    first = vf.search(queries[4], where=WHERE, limit=10)
    seg = max(vf._engine.segments, key=lambda s: s.n)
    part = seg.partitions[""]
    vf.delete([first.ids[0]])
    outsider = int(np.flatnonzero(labels >= SELECTED)[0])
    vf.set_payload({"cluster": 0}, ids=[outsider])
    vf.search(queries[:4], where=WHERE, limit=10)  # a new version: the misses learnt again
    after = vf.search(queries[4], where=WHERE, limit=10)
    now = set(np.flatnonzero(labels < SELECTED).tolist()) - {first.ids[0]} | {outsider}
    assert first.ids[0] not in after.ids and set(after.ids) <= now
    assert sealed_plan(vf, queries[5:6], where=WHERE)["strategy"] == "partition"
    assert seg.partitions[""] is part
    hit = vf.search(x[outsider], where=WHERE, limit=1, exact=False)
    assert hit.ids == [outsider]


def test_probe_that_reads_too_much_goes_exact(world, exact_looks_dear, monkeypatch):
    """The rows a probe reads are measured per filter: when they cost more
    than the exact scan, the planner goes exact over the matches."""
    queries = world[2]
    vf = _frame(world)
    vf.search(queries[:4], where=WHERE, limit=10)
    vf.search(queries[4:6], where=WHERE, limit=10)
    assert sealed_plan(vf, queries[6:7], where=WHERE)["strategy"] == "partition"
    planner_costs(monkeypatch, exact_per_float=1e-6, scan_per_float=1e-3)  # reads look dear
    plan = sealed_plan(vf, queries[6:7], where=WHERE)
    assert plan["strategy"] == "exact" and "partition probe read" in plan["reason"]


def test_manhattan_segments_never_build_a_partition(world, exact_looks_dear):
    vf = _frame(world, "Manhattan")
    vf.search(world[2][:4], where=WHERE, limit=10)
    assert sealed_plan(vf, world[2][4:6], where=WHERE)["strategy"] in ("exact", "annoy")
    assert not any(s.partitions for s in vf._engine.segments)


def test_partitions_live_in_memory_and_come_back_on_need(world, exact_looks_dear, tmp_path):
    """A saved frame writes no partition; the loaded one builds its own when
    the planner wants it, and answers as the original did."""
    queries = world[2]
    vf = _frame(world)
    vf.save(tmp_path / "unpartitioned")
    vf.search(queries[:4], where=WHERE, limit=10)
    before = vf.search(queries[4:], where=WHERE, limit=10)
    assert any(s.partitions for s in vf._engine.segments)
    vf.save(tmp_path / "snap")

    def files(folder):
        return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")
                if p.is_file()}

    assert files(tmp_path / "snap") == files(tmp_path / "unpartitioned")
    back = VectorFrame.load(tmp_path / "snap")
    assert not any(s.partitions for s in back._engine.segments)
    back.search(queries[:4], where=WHERE, limit=10)
    assert sealed_plan(back, queries[4:5], where=WHERE)["strategy"] == "partition"
    after = back.search(queries[4:], where=WHERE, limit=10)
    assert [r.ids for r in after] == [r.ids for r in before]
