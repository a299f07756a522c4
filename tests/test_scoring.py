"""Certainty-factor scoring: the documented formula, bounded and independent of firing order."""
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expert.scoring import certainty, combine


def test_one_factor_is_itself():
    assert certainty([0.6]) == pytest.approx(0.6)
    assert certainty([-0.4]) == pytest.approx(-0.4)
    assert certainty([]) == 0


def test_supporting_factors_combine_as_mycin():
    # 0.6 + 0.5 * (1 - 0.6) = 0.8
    assert certainty([0.6, 0.5]) == pytest.approx(0.8)
    assert combine([0.6, 0.5, 0.5]) == pytest.approx(0.9)


def test_support_and_opposition_merge():
    # (0.8 - 0.5) / (1 - min(0.8, 0.5)) = 0.6
    assert certainty([0.6, 0.5, -0.5]) == pytest.approx(0.6)
    assert certainty([0.3, -0.6]) == pytest.approx((0.3 - 0.6) / (1 - 0.3))


def test_full_certainty_both_ways_is_zero():
    assert certainty([1.0, -1.0]) == 0


factors = st.lists(st.floats(min_value=0.01, max_value=1.0).map(lambda x: round(x, 2)) |
                   st.floats(min_value=-1.0, max_value=-0.01).map(lambda x: round(x, 2)), max_size=6)


@given(factors)
def test_score_is_bounded_and_order_independent(values):
    score = certainty(values)
    assert -1 <= score <= 1
    for order in itertools.islice(itertools.permutations(values), 24):
        assert certainty(list(order)) == score


@given(factors, st.floats(min_value=0.01, max_value=1.0))
def test_more_support_never_lowers_a_score(values, extra):
    assert certainty(values + [extra]) >= certainty(values) - 1e-12


@given(factors, st.floats(min_value=0.01, max_value=1.0))
def test_more_opposition_never_raises_a_score(values, extra):
    assert certainty(values + [-extra]) <= certainty(values) + 1e-12


def test_causes_are_ranked_by_score(small):
    result = small.assess({"answers": {"exercise": True, "thirst": True, "medications": ["diuretic"],
                                       "movement": "twitch", "sites": ["hand"], "weakness": True}})
    scores = [c.score for c in result.causes]
    assert scores == sorted(scores, reverse=True)
    assert [c.id for c in result.causes] == ["nerve_disease", "dehydration", "overuse"]
    assert result.causes[1].score == pytest.approx(round(certainty([0.5, 0.3]), 3))
