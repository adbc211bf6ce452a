"""The whole-turn benchmark: its plan, its checks on hand-made rows, and one small run on the real stack."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from bot.bench_turns.bench import measure
from bot.bench_turns.client import TurnResult
from bot.bench_turns.report import latency_stats, summarize, write_report
from bot.bench_turns.script import PLAIN, RECOMMEND, conversation_plan
from bot.bench_turns.tracker_check import check_delivery, read_tracked_turns, recommendation_sources
from store.models import ItemKind, RecEventType, RecommendationEvent

T0 = datetime(2026, 11, 1, 12, 0, 0)


def turn(sender: str, position: int, kind: str, text: str, *, seconds: float = 0.1, replies: int = 1,
         error: str | None = None, warmup: bool = False) -> TurnResult:
    action = "action_recommend_products" if kind == RECOMMEND else "action_delivery_info"
    return TurnResult(0, sender, position, kind, "en", text, action, warmup, T0 + timedelta(seconds=position),
                      seconds, replies, error)


def create_events_table(engine: sa.Engine) -> sa.Table:
    """The columns of Rasa 3.6's SQL tracker store table that the check reads."""
    metadata = sa.MetaData()
    table = sa.Table("events", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("sender_id", sa.String(255)), sa.Column("type_name", sa.String(255)),
                     sa.Column("intent_name", sa.String(255)), sa.Column("action_name", sa.String(255)),
                     sa.Column("data", sa.Text))
    metadata.create_all(engine)
    return table


def test_plan_alternates_kinds_and_mixes_them_across_conversations():
    plans = [conversation_plan(index, warmup_turns=2, turns=4) for index in range(4)]
    for plan in plans:
        kinds = [t.line.kind for t in plan]
        assert all(a != b for a, b in zip(kinds, kinds[1:]))
        assert [t.warmup for t in plan] == [True, True, False, False, False, False]
    assert {plan[2].line.kind for plan in plans} == {PLAIN, RECOMMEND}
    assert any("推荐" in t.line.text for t in plans[1]) and all(t.line.text.isascii() for t in plans[0])
    with pytest.raises(ValueError, match="turns >= 1"):
        conversation_plan(0, warmup_turns=0, turns=0)


def test_latency_stats_percentiles_in_milliseconds():
    stats = latency_stats([i / 1000 for i in range(1, 101)])
    assert (stats["n"], stats["p50_ms"], stats["p95_ms"], stats["max_ms"]) == (100, 50.5, 95.0, 100.0)
    assert latency_stats([])["p95_ms"] is None


def test_delivery_check_counts_lost_unanswered_and_misrouted_messages(engine):
    events = create_events_table(engine)
    rows = [
        ("a", "action", None, "action_session_start", "{}"),
        ("a", "user", "delivery_info", None, '{"text": "ship?"}'),
        ("a", "action", None, "action_delivery_info", "{}"),
        ("a", "bot", None, None, "{}"),
        ("a", "user", "greet", None, '{"text": "recommend?"}'),  # misrouted: greeted instead
        ("a", "action", None, "utter_greet", "{}"),
        ("a", "bot", None, None, "{}"),
        ("b", "user", "delivery_info", None, '{"text": "ship?"}'),
        ("b", "action", None, "action_delivery_info", "{}"),  # no bot event: lost reply
    ]
    with engine.begin() as connection:
        connection.execute(events.insert(), [dict(zip(("sender_id", "type_name", "intent_name", "action_name",
                                                       "data"), row)) for row in rows])
    results = [turn("a", 0, PLAIN, "ship?"), turn("a", 1, RECOMMEND, "recommend?"),
               turn("b", 0, PLAIN, "ship?", replies=0, error="empty reply"), turn("b", 1, PLAIN, "again?")]
    tracked = read_tracked_turns(engine, ["a", "b"])
    assert [t.actions for t in tracked["a"]] == [("action_delivery_info",), ("utter_greet",)]
    check = check_delivery(results, tracked)
    assert (check.sent, check.tracked_user_messages) == (4, 3)
    assert (check.missing_from_tracker, check.without_bot_reply, check.lost) == (1, 1, 2)
    assert check.empty_or_failed_http == 1 and not check.passed
    assert check.wrong_action == {RECOMMEND: 1}  # a missing message counts as lost, not as misrouted
    clean = check_delivery(results[:1], tracked)
    assert clean.passed and clean.lost == 0


def test_recommendation_sources_assign_shown_events_to_the_running_turn(session_factory: sessionmaker[Session]):
    results = [turn("s", 0, RECOMMEND, "r0", warmup=True), turn("s", 1, PLAIN, "p1"),
               turn("s", 2, RECOMMEND, "r2"), turn("s", 3, RECOMMEND, "r3"), turn("s", 4, RECOMMEND, "r4")]

    def shown(at_s: float, fallback: bool, version: str) -> RecommendationEvent:
        return RecommendationEvent(sender_id="s", created_at=T0 + timedelta(seconds=at_s), kind=ItemKind.PRODUCT,
                                   item_id=1, event=RecEventType.SHOWN, fallback=fallback, model_version=version)

    with session_factory() as session, session.begin():
        session.add_all([shown(0.5, True, "fallback-v1"),  # warm-up turn: not counted
                         shown(2.2, False, "gpt-tiny/default"), shown(2.3, False, "gpt-tiny/default"),
                         shown(3.4, False, "gpt-tiny/default"), shown(3.5, True, "fallback-v1")])
    sources = recommendation_sources(session_factory, results)
    assert (sources.turns, sources.model, sources.fallback, sources.nothing_shown) == (3, 1, 1, 1)
    assert sources.fallback_share == 0.5
    assert sources.model_versions == {"gpt-tiny/default": 2}


@pytest.mark.integration
def test_small_run_on_the_real_stack_loses_nothing_and_reports(stack, it_settings, tmp_path):
    measured = measure(it_settings, stack.rasa_url, conversations=3, turns=2, warmup_turns=1, turn_timeout_s=60,
                       progress=False)
    assert len(measured.results) == 9
    assert measured.delivery.passed, measured.delivery.problems
    assert not measured.delivery.wrong_action, measured.delivery.problems
    assert measured.sources.turns == 3 and measured.sources.model >= 1, measured.sources
    summary = summarize(measured.results, measured.delivery, measured.sources, measured.model_server, None, {
        "conversations": 3, "timed_turns_per_conversation": 2, "warmup_turns_per_conversation": 1,
        "store": "it", "model": "tiny", "commit": "test", "finished_at": "now", "cpu_count": 2,
        "load_before": "-", "load_after": "-", "timed_wall_s": 1.0})
    assert summary["latency"][PLAIN]["n"] == 3 and summary["latency"][RECOMMEND]["n"] == 3
    assert summary["p95_ratio_recommend_over_plain"] > 0
    assert measured.model_server["requests"] >= measured.sources.model, measured.model_server
    write_report(measured.results, summary, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"report.md", "report.json", "latency.png"}
