"""Back-office forms drawn from the API's schemas: the inputs, what was typed read back, and the
errors placed beside their fields."""

from __future__ import annotations

from decimal import Decimal

from werkzeug.datastructures import MultiDict

from app.backoffice.schema_forms import inputs_of, submit, values_of
from app.schemas.badges import BadgeSchema
from app.schemas.leaderboards import LeaderboardSchema, LeaderboardUpdateSchema
from app.schemas.program import EarningRuleSchema
from app.schemas.rewards import RewardSchema, RewardUpdateSchema
from app.schemas.scenarios import PressureSettingsSchema
from app.schemas.tiers import LadderSchema
from loyalty.errors import Conflict

REWARD = {
    "code": "TENOFF",
    "name": "10 € off",
    "kind": "fixed_voucher",
    "amount": "10.00",
    "cost_points": "100",
    "validity_days": "30",
    "active_from": "2026-12-01T08:30",
    "is_active": "y",
}


def test_each_field_becomes_the_input_of_its_type() -> None:
    kinds = {field.name: (field.kind, field.required) for field in inputs_of(RewardSchema())}

    assert kinds["code"] == ("text", True)
    assert kinds["description"] == ("textarea", False)
    assert kinds["kind"] == ("select", True)
    assert kinds["amount"] == ("decimal", False)
    assert kinds["cost_points"] == ("integer", True)
    assert kinds["active_from"] == ("datetime", False)
    assert kinds["is_offer"] == ("checkbox", False)
    assert {f.name: f.kind for f in inputs_of(LeaderboardSchema())}["periods"] == "checkboxes"
    assert {f.name: f.kind for f in inputs_of(BadgeSchema())}["levels"] == "yaml"
    assert {f.name: f.kind for f in inputs_of(PressureSettingsSchema())}["quiet_start"] == "time"
    assert "code" not in {f.name for f in inputs_of(RewardUpdateSchema())}


def test_a_valid_form_loads_as_the_api_would_have_loaded_its_json() -> None:
    submission = submit(RewardSchema(), MultiDict(REWARD))

    assert submission.is_valid, submission.errors
    assert submission.data["cost_points"] == 100
    assert submission.data["amount"] == Decimal("10.00")
    assert submission.data["active_from"].isoformat() == "2026-12-01T08:30:00+00:00"
    assert (submission.data["is_active"], submission.data["is_offer"]) == (True, False)
    assert "percent" not in submission.data


def test_each_error_is_beside_its_field_and_the_input_is_kept() -> None:
    typed = {**REWARD, "cost_points": "a hundred", "validity_days": "0", "name": ""}

    submission = submit(RewardSchema(), MultiDict(typed))

    assert not submission.is_valid
    assert submission.errors == {
        "cost_points": "Not a valid integer.",
        "validity_days": "Must be greater than or equal to 1 and less than or equal to 3650.",
        "name": "Enter the name",
    }
    assert submission.values["cost_points"] == "a hundred"
    assert submission.data == {}


def test_nested_errors_name_their_place_inside_the_field() -> None:
    ladder = "- {code: base, name: Base, rank: 0, threshold: 0}\n- {code: VIP, name: VIP, rank: 1, threshold: 100}\n"

    submission = submit(LadderSchema(), MultiDict({"tiers": ladder}))

    assert submission.errors == {"tiers": "tiers[1].code: 1 to 32 lower-case letters, digits, _ and -."}


def test_a_nested_field_that_is_not_yaml_says_on_which_line() -> None:
    submission = submit(LadderSchema(), MultiDict({"tiers": "- {code: base\n- rank: 1\n"}))

    assert submission.errors["tiers"].startswith("Not valid YAML on line 2")


def test_an_operations_error_goes_beside_the_field_it_names_or_above_the_form() -> None:
    inputs = inputs_of(LadderSchema())
    submission = submit(LadderSchema(), MultiDict({"tiers": "- {code: base, name: Base, rank: 0, threshold: 0}"}))

    submission.refuse(Conflict("the lowest tier must need 0 points", field="tiers.0.threshold"), inputs)
    submission.refuse(Conflict("something else", field="elsewhere"), inputs)

    assert submission.errors == {
        "tiers": "tiers[0].threshold: The lowest tier must need 0 points",
        "form": "elsewhere: Something else",
    }


def test_an_edit_clears_an_emptied_optional_field_and_keeps_the_untouched() -> None:
    submission = submit(EarningRuleSchema(), MultiDict({"name": "Beauty", "category": ""}), partial=True)

    assert submission.is_valid, submission.errors
    assert submission.data["category"] is None
    assert "multiplier" not in submission.data
    ticked = submit(LeaderboardUpdateSchema(), MultiDict([("periods", "week"), ("periods", "all")]), partial=True)
    assert ticked.data["periods"] == ["week", "all"]


def test_a_stored_object_shows_in_its_inputs() -> None:
    document = RewardSchema().dump(
        {"code": "X", "name": "X", "kind": "fixed_voucher", "amount": Decimal("5.00"), "cost_points": 5, "validity_days": 3,
         "active_from": None, "is_active": True}
    )  # fmt: skip
    ladder = {"tiers": [{"code": "base", "name": "Base", "rank": 0, "threshold": 0, "benefits": ["Free returns"]}]}

    assert values_of(RewardSchema(), document) == {
        "code": "X", "name": "X", "kind": "fixed_voucher", "amount": "5.00", "cost_points": 5, "validity_days": 3,
        "active_from": "", "is_active": True,
    }  # fmt: skip
    assert values_of(LadderSchema(), ladder)["tiers"].startswith("- code: base\n")
