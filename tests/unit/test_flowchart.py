"""The flow of a scenario placed for drawing: boxes in a column, arrows down or in their own lanes."""

from __future__ import annotations

from app.backoffice.flowchart import BOX_HEIGHT, BOX_WIDTH, MARGIN, flow_chart
from notifications.scenarios.definition import parse_definition
from notifications.scenarios.flow import scenario_flow
from tests.unit.test_scenario_flow import NEAR_THRESHOLD


def chart():
    return flow_chart(scenario_flow(parse_definition(NEAR_THRESHOLD, event_names=frozenset())))


def test_boxes_stand_in_one_column_in_reading_order_without_overlapping() -> None:
    placed = chart()

    assert {box.x for box in placed.boxes} == {MARGIN}
    tops = [box.y for box in placed.boxes]
    assert all(lower - upper > BOX_HEIGHT for upper, lower in zip(tops, tops[1:], strict=False))
    assert placed.height == tops[-1] + BOX_HEIGHT + MARGIN


def test_arrows_to_the_next_box_go_straight_down_and_jumps_each_take_a_lane_on_the_right() -> None:
    placed = chart()

    straight = [arrow for arrow in placed.arrows if " V" in arrow.path and " H" not in arrow.path]
    jumps = [arrow for arrow in placed.arrows if " H" in arrow.path]
    assert len(straight) + len(jumps) == 9
    # reminder_opened → wait_purchase (yes), wait_purchase → end (no), vip_offer_message → wait_purchase…
    lanes = [int(arrow.path.split(" H")[1].split(" ")[0]) for arrow in jumps]
    assert len(set(lanes)) == len(lanes)
    assert min(lanes) > MARGIN + BOX_WIDTH
    assert placed.width > max(lanes)
    assert {arrow.label for arrow in jumps} >= {"yes", "no"}
