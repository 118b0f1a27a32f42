"""The backfill's throttle decisions, pure: batch sizing, the rate cap over an injected clock, the lag rule on
recorded replica-set status documents, and the pause/resume/cancel flags a front end sets from its thread."""

from __future__ import annotations

import threading

import pytest

from runway_tui.engine.backfill.control import BackfillControl, Request
from runway_tui.engine.backfill.lag import lag_wait, secondary_lag_s
from runway_tui.engine.backfill.throttle import (
    BATCH_SIZE_LIMIT,
    FIRST_BATCH,
    MAX_BATCH,
    MIN_BATCH,
    BatchSizer,
    RateCap,
    ThrottleSettings,
    settings_problem,
)
from tests.engine.recorded import replset_status as recorded


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- batch size ---------------------------------------------------------------------------------------------

def test_a_fast_batch_grows_the_next_one_at_most_twofold() -> None:
    sizer = BatchSizer(ThrottleSettings(batch_ms=200))
    assert sizer.size == FIRST_BATCH
    sizer.observe(FIRST_BATCH, 0.01)  # 20x faster than the target
    assert sizer.size == FIRST_BATCH * 2


def test_a_slow_batch_shrinks_the_next_one_at_most_by_half() -> None:
    sizer = BatchSizer(ThrottleSettings(batch_ms=200))
    sizer.observe(FIRST_BATCH, 10.0)
    assert sizer.size == FIRST_BATCH // 2


def test_the_size_settles_where_a_batch_takes_the_target_time() -> None:
    sizer = BatchSizer(ThrottleSettings(batch_ms=200))
    for _ in range(20):  # a server doing 4,000 documents a second: 800 per 200 ms
        sizer.observe(sizer.size, sizer.size / 4000)
    assert sizer.size == 800


@pytest.mark.parametrize(("seconds", "expected"), [(0.0001, MAX_BATCH), (1000.0, MIN_BATCH)])
def test_the_size_stays_within_its_bounds(seconds: float, expected: int) -> None:
    sizer = BatchSizer(ThrottleSettings())
    for _ in range(30):
        sizer.observe(sizer.size, seconds)
    assert sizer.size == expected


def test_a_fixed_batch_size_is_never_adapted() -> None:
    sizer = BatchSizer(ThrottleSettings(batch_size=250))
    sizer.observe(250, 0.001)
    sizer.observe(250, 100.0)
    assert sizer.size == 250


def test_under_a_rate_cap_a_batch_holds_one_target_time_of_the_rate() -> None:
    sizer = BatchSizer(ThrottleSettings(batch_ms=200, max_docs_per_s=1000))
    for _ in range(10):
        sizer.observe(sizer.size, 0.001)
    assert sizer.size == 200


def test_an_empty_batch_changes_nothing() -> None:
    sizer = BatchSizer(ThrottleSettings())
    sizer.observe(0, 0.0)
    assert sizer.size == FIRST_BATCH


# --- the rate cap ---------------------------------------------------------------------------------------------

def _run_for(cap: RateCap, clock: FakeClock, seconds: float, batch: int, batch_s: float) -> int:
    """Simulate a walk: each batch takes `batch_s` of server time, then the cap's delay is slept."""
    done = 0
    cap.start()
    end = clock.now + seconds
    while clock.now < end:
        clock.now += batch_s
        done += batch
        clock.now += cap.delay_before_next(batch)
    return done


@pytest.mark.parametrize("batch_s", [0.001, 0.05, 0.19])
def test_max_docs_per_s_holds_within_ten_percent_over_a_ten_second_run(batch_s: float) -> None:
    clock = FakeClock()
    cap = RateCap(500, clock)
    started = clock.now
    done = _run_for(cap, clock, 10.0, 100, batch_s)
    rate = done / (clock.now - started)
    assert 450 <= rate <= 550


def test_a_server_slower_than_the_cap_is_never_made_to_wait() -> None:
    clock = FakeClock()
    cap = RateCap(10_000, clock)
    cap.start()
    clock.now += 1.0
    assert cap.delay_before_next(500) == 0.0


def test_without_a_cap_there_is_no_wait() -> None:
    clock = FakeClock()
    cap = RateCap(None, clock)
    assert cap.delay_before_next(10**9) == 0.0


def test_the_cap_counts_from_a_resume_not_from_the_first_start() -> None:
    clock = FakeClock()
    cap = RateCap(100, clock)
    cap.start()
    assert cap.delay_before_next(100) == pytest.approx(1.0)
    clock.now += 3600  # paused for an hour
    cap.start()
    assert cap.delay_before_next(100) == pytest.approx(1.0)  # no burst to "catch up" the hour


# --- settings --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("settings", "words"), [
    (ThrottleSettings(batch_size=0), "batch_size must be a whole number from 1"),
    (ThrottleSettings(batch_size=BATCH_SIZE_LIMIT + 1), "batch_size must be a whole number from 1"),
    (ThrottleSettings(batch_size=True), "batch_size"),  # type: ignore[arg-type]
    (ThrottleSettings(batch_size=1.5), "batch_size"),  # type: ignore[arg-type]
    (ThrottleSettings(max_docs_per_s=0), "max_docs_per_s must be a number above 0"),
    (ThrottleSettings(max_docs_per_s="fast"), "max_docs_per_s"),  # type: ignore[arg-type]
    (ThrottleSettings(max_lag_s=-1), "max_lag_s must be a number of seconds above 0"),
    (ThrottleSettings(batch_ms=5), "batch_ms must be a whole number of milliseconds from 10"),
])
def test_out_of_range_settings_are_named(settings: ThrottleSettings, words: str) -> None:
    problem = settings_problem(settings)
    assert problem is not None and words in problem


def test_good_settings_pass_and_a_call_overrides_the_defaults() -> None:
    defaults = ThrottleSettings(batch_ms=300, max_docs_per_s=1000, max_lag_s=5)
    call = defaults.overridden(batch_size=50, max_lag_s=2)
    assert call == ThrottleSettings(batch_ms=300, max_docs_per_s=1000, max_lag_s=2, batch_size=50)
    assert settings_problem(call) is None
    assert defaults.overridden() == defaults


# --- the lag rule on recorded replSetGetStatus documents ----------------------------------------------------------

@pytest.mark.parametrize(("document", "lag"), [
    (recorded.single_node, None),  # no secondary: nothing to wait for
    (recorded.in_step, 1.2),
    (recorded.one_lagging, 12.3),
    (recorded.secondary_down, 0.5),  # a member that is down has no lag to wait for
    (recorded.with_arbiter, 2.0),  # an arbiter holds no data
    (recorded.no_primary, None),  # an election: no primary to measure from
    (recorded.timestamps_only, 9.0),  # optime.ts when optimeDate is absent
])
def test_secondary_lag_read_from_recorded_status(document: dict, lag: float | None) -> None:
    assert secondary_lag_s(document) == (pytest.approx(lag, abs=0.01) if lag is not None else None)


def test_the_lag_rule_waits_while_a_secondary_lags_and_says_so() -> None:
    assert lag_wait(recorded.one_lagging, 5) == "secondary lag 12 s > 5 s"
    assert lag_wait(recorded.in_step, 5) is None
    assert lag_wait(recorded.single_node, 5) is None


def test_the_lag_rule_resumes_once_the_secondary_caught_up() -> None:
    decisions = [lag_wait(document, 5) for document in (recorded.one_lagging, recorded.one_lagging, recorded.in_step)]
    assert decisions == ["secondary lag 12 s > 5 s", "secondary lag 12 s > 5 s", None]


def test_a_member_delayed_on_purpose_is_left_out() -> None:
    assert lag_wait(recorded.delayed_member, 5) == "secondary lag 3600 s > 5 s"
    assert lag_wait(recorded.delayed_member, 5, ignore={"delayed.example.net:27017"}) is None


# --- pause, resume, cancel ------------------------------------------------------------------------------------------

def test_pause_resume_and_cancel_are_seen_with_who_asked() -> None:
    control = BackfillControl()
    assert control.asked().request is Request.RUN
    control.pause("alice@host")
    assert (control.asked().request, control.asked().by) == (Request.PAUSE, "alice@host")
    control.resume("alice@host")
    assert control.asked().request is Request.RUN
    control.cancel("bob@laptop")
    assert (control.asked().request, control.asked().by) == (Request.CANCEL, "bob@laptop")
    control.reset()
    assert control.asked().request is Request.RUN


def test_a_paused_walk_wakes_as_soon_as_another_thread_resumes_it() -> None:
    control = BackfillControl()
    control.pause("alice@host")
    woke: list[Request] = []
    waiter = threading.Thread(target=lambda: woke.append(control.wait_while_paused(timeout_s=30).request))
    waiter.start()
    control.resume("alice@host")
    waiter.join(timeout=10)
    assert woke == [Request.RUN]


def test_waiting_while_paused_returns_after_its_timeout_so_the_lease_can_be_renewed() -> None:
    control = BackfillControl()
    control.pause("alice@host")
    assert control.wait_while_paused(timeout_s=0.01).request is Request.PAUSE
