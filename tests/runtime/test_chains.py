"""Drawing a hidden chain's labels back from its forward rows: every path as often as its exact posterior says,
which enumerating all paths of a short chain gives."""

import itertools

import numpy as np

from ainative.runtime.chains import draw


def _paths(start, step, emission):
    """Every path of labels and its posterior probability, by enumeration: p(z) p(y | z), normalised."""
    steps, classes = emission.shape
    paths = np.array(list(itertools.product(range(classes), repeat=steps)))
    log = start[paths[:, 0]] + emission[np.arange(steps), paths].sum(-1)
    log += step[paths[:, :-1], paths[:, 1:]].sum(-1)
    weights = np.exp(log - log.max())
    return paths, weights / weights.sum()


def _forward(start, step, emission):
    rows = [start + emission[0]]
    for emitted in emission[1:]:
        rows.append(np.logaddexp.reduce(rows[-1][:, None] + step, axis=0) + emitted)
    return np.array(rows)


def test_drawn_paths_follow_the_exact_posterior_of_every_path():
    rng = np.random.default_rng(0)
    start = np.log([0.6, 0.3, 0.1])
    step = np.log(rng.dirichlet(np.ones(3), size=3))
    emission = rng.normal(size=(4, 3))
    paths, probability = _paths(start, step, emission)
    count = 60_000
    alpha = np.broadcast_to(_forward(start, step, emission), (count, 4, 3))
    drawn = draw(alpha, np.broadcast_to(step, (count, 3, 3)), np.random.default_rng(1))
    assert drawn.shape == (count, 4) and drawn.dtype == np.int64
    codes = (drawn * 3 ** np.arange(3, -1, -1)).sum(-1)
    share = np.bincount(codes, minlength=81) / count
    expected = probability[np.argsort((paths * 3 ** np.arange(3, -1, -1)).sum(-1))]
    np.testing.assert_array_less(np.abs(share - expected), 5 * np.sqrt(expected * (1 - expected) / count) + 1e-4)


def test_a_transition_given_up_to_a_constant_in_each_row_draws_the_same_paths():
    rng = np.random.default_rng(2)
    start, step, emission = np.log([0.5, 0.5]), np.log([[0.9, 0.1], [0.2, 0.8]]), rng.normal(size=(5, 2))
    alpha = np.broadcast_to(_forward(start, step, emission), (8, 5, 2))
    shifted = step + np.array([[3.0], [-2.0]])
    first = draw(alpha, np.broadcast_to(step, (8, 2, 2)), np.random.default_rng(3))
    again = draw(alpha, np.broadcast_to(shifted, (8, 2, 2)), np.random.default_rng(3))
    np.testing.assert_array_equal(first, again)
