"""ordered_map: the results of map, in input order, in this process or over worker processes."""

import math
import operator

import pytest

from genmimic.core.parallel import ordered_map


@pytest.mark.parametrize("workers", [1, 2])
def test_ordered_map_gives_maps_results_in_input_order(workers):
    bases, exps = list(range(12)), [3] * 12
    assert list(ordered_map(operator.pow, bases, exps, workers=workers)) == [b**3 for b in bases]


@pytest.mark.parametrize("workers", [1, 2])
def test_an_error_in_a_task_reaches_the_caller_at_its_result(workers):
    results = ordered_map(math.sqrt, [4.0, -1.0, 9.0], workers=workers)
    assert next(results) == 2.0
    with pytest.raises(ValueError, match="math domain error"):
        next(results)
