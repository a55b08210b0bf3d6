"""What the triggers remember between events (workflows/trigger_caches.py) and read of an
event for it (`rules_versions`, `waiting_runs`), without servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.unit.workflows.test_triggers import rule, stage_changed
from workflows.automation_triggers import DealEvent
from workflows.trigger_caches import CLOCK_MARGIN, RecentPlans, RulesCache

T0 = datetime(2026, 12, 2, 5, tzinfo=UTC)


def test_rules_are_held_under_the_version_they_were_fetched_for() -> None:
    cache = RulesCache()
    first = (rule("1", "11", "enter"),)
    assert cache.get("3", 7) is None
    cache.put("3", 7, first)
    assert cache.get("3", 7) == first
    assert cache.get("3", 8) is None, "a newer version refetches"
    assert cache.get("3", None) is None, "an event without a version refetches"
    cache.put("3", None, ())  # nor is what it fetched kept
    assert cache.get("3", 7) == first
    cache.put("3", 8, ())
    assert cache.get("3", 8) == () and cache.get("3", 7) is None
    cache.put("3", 7, first)  # an event redelivered late does not bring the old ones back
    assert cache.get("3", 8) == ()


def test_the_rules_cache_forgets_the_least_recently_used_pipeline_first() -> None:
    cache = RulesCache(size=2)
    cache.put("1", 1, ())
    cache.put("2", 1, ())
    assert cache.get("1", 1) == ()  # used: "2" is now the oldest
    cache.put("3", 1, ())
    assert len(cache) == 2
    assert cache.get("2", 1) is None and cache.get("1", 1) == () and cache.get("3", 1) == ()


def test_a_run_planned_after_an_event_was_published_is_remembered_for_it() -> None:
    plans = RecentPlans(size=2)
    assert not plans.since("deal", "42", T0)
    plans.note("deal", "42", T0)
    assert plans.since("deal", "42", T0 - timedelta(minutes=1)), "published before the plan"
    assert plans.since("deal", "42", T0 + CLOCK_MARGIN), "within the clocks' margin"
    assert not plans.since("deal", "42", T0 + CLOCK_MARGIN + timedelta(seconds=1))
    assert not plans.since("lead", "42", T0 - timedelta(minutes=1)), "a lead is not the deal"
    plans.note("deal", "43", T0)
    plans.note("deal", "44", T0)
    assert not plans.since("deal", "42", T0), "bounded: the oldest forgotten"


def test_an_event_names_its_rules_versions_and_waiting_runs_when_it_has_them() -> None:
    event = DealEvent.of(stage_changed(rules_versions={"3": 12, "2": "5"}, waiting_runs=1))
    assert (event.rules_versions, event.waiting_runs) == ({"3": 12, "2": 5}, 1)
    assert event.published == datetime(2026, 11, 2, tzinfo=UTC)
    older = DealEvent.of(stage_changed())
    assert (older.rules_versions, older.waiting_runs) == ({}, None), "then: ask"
    assert DealEvent.of(stage_changed(waiting_runs=0)).waiting_runs == 0
