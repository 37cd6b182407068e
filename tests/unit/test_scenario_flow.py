"""A scenario's definition drawn as a flow: what a marketer reads on the scenario's page."""

from __future__ import annotations

from typing import Any

from notifications.scenarios.definition import parse_definition
from notifications.scenarios.flow import END, TRIGGER, Edge, scenario_flow

#: The near-threshold scenario of docs/scenarios.md.
NEAR_THRESHOLD: dict[str, Any] = {
    "trigger": {"scan": "near_threshold", "distance": "$distance"},
    "params": {"distance": 10},
    "variants": [{"key": "d10", "params": {"distance": 10}}, {"key": "d20", "params": {"distance": 20}}],
    "holdout_percent": 10,
    "entry": {"cooldown_days": 90},
    "goal": {"event": "purchase", "within_days": 16, "ends_journey": False},
    "steps": [
        {"id": "reminder", "send": "near_threshold_reminder"},
        {"id": "reminder_opened", "branch": "opened", "of": "reminder", "within": "2d", "then": "wait_purchase",
         "else": "vip_offer"},
        {"id": "vip_offer", "grant": {"offer": "VIPOFFER20", "valid_days": 14}},
        {"id": "vip_offer_message", "send": "near_threshold_vip_offer"},
        {"id": "wait_purchase", "branch": "purchased", "within": "14d", "then": "thanks"},
        {"id": "thanks", "send": "near_threshold_vip_thanks", "channels": ["sms"]},
    ],
}  # fmt: skip


def flow_of(data: dict[str, Any]):
    return scenario_flow(parse_definition(data, event_names=frozenset({"PurchaseRecorded", "TierUpgraded"})))


def test_the_flow_reads_from_the_trigger_through_every_step_to_the_end() -> None:
    flow = flow_of(NEAR_THRESHOLD)

    assert [node.id for node in flow.nodes] == [
        TRIGGER, "reminder", "reminder_opened", "vip_offer", "vip_offer_message", "wait_purchase", "thanks", END,
    ]  # fmt: skip
    titles = {node.id: node.title for node in flow.nodes}
    assert titles[TRIGGER] == "Members within $distance points of a threshold"
    assert titles["reminder"] == "Send near_threshold_reminder"
    assert titles["reminder_opened"] == "Opened reminder?"
    assert titles["vip_offer"] == "Give offer VIPOFFER20"
    assert titles["wait_purchase"] == "Bought?"
    assert {node.id: node.detail for node in flow.nodes}["thanks"] == "by sms"


def test_branches_go_to_their_yes_and_no_and_a_missing_side_ends_the_journey() -> None:
    flow = flow_of(NEAR_THRESHOLD)

    assert set(flow.edges) == {
        Edge(TRIGGER, "reminder", "10 % held out; d10 / d20"),
        Edge("reminder", "reminder_opened"),
        Edge("reminder_opened", "wait_purchase", "yes"),
        Edge("reminder_opened", "vip_offer", "no"),
        Edge("vip_offer", "vip_offer_message"),
        Edge("vip_offer_message", "wait_purchase"),
        Edge("wait_purchase", "thanks", "yes"),
        Edge("wait_purchase", END, "no"),
        Edge("thanks", END),
    }


def test_an_event_trigger_shows_its_filter_and_next_and_exit_steps_jump() -> None:
    flow = flow_of(
        {
            "trigger": {"event": "TierUpgraded", "where": {"to_tier": "vip"}},
            "steps": [
                {"id": "pause", "wait": "1d", "next": "late"},
                {"id": "never", "exit": True},
                {"id": "late", "wait_until": "09:00"},
                {"id": "bonus", "grant": {"bonus_points": 50, "within_days": 7}},
            ],
        }
    )

    nodes = {node.id: node for node in flow.nodes}
    assert (nodes[TRIGGER].title, nodes[TRIGGER].detail) == ("When TierUpgraded", "where to_tier = vip")
    assert nodes["pause"].title == "Wait 1d"
    assert nodes["late"].title == "Wait until 09:00"
    assert (nodes["bonus"].title, nodes["bonus"].detail) == ("Promise 50 bonus points", "on a purchase within 7 days")
    assert Edge("pause", "late") in flow.edges
    assert Edge("never", END) in flow.edges
    assert Edge("bonus", END) in flow.edges
    assert Edge(TRIGGER, "pause") in flow.edges


def test_a_date_scan_says_how_far_ahead() -> None:
    flow = flow_of(
        {"trigger": {"scan": "date", "date": "birthday", "offset_days": -1}, "steps": [{"id": "card", "send": "birthday"}]}
    )

    assert flow.nodes[0].title == "Members 1 day before their birthday"
