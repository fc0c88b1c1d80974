"""The parameter contract: defaults, validation and the messages bad input gets."""

import pytest

from rackplane.design import PARAMS, DesignError, design_from_table, load_design
from tests.conftest import default_table, toml_dumps


def test_default_design_has_the_documented_values():
    d = load_design()
    assert d["name"] == "default"
    assert d["slots.count"] == 10
    assert d["node.model"] == "pi4b"
    assert d["rack.units"] == "auto" and d["slots.pitch_mm"] == "auto" and d["cooling.fan_count"] == "auto"
    assert d["printer.bed_mm"] == (256.0, 256.0, 256.0)


def test_missing_keys_take_their_defaults():
    d = design_from_table({"name": "x"})
    for key, param in PARAMS.items():
        if key != "name":
            assert d[key] == param.default


def test_toml_round_trip_of_the_default():
    d = load_design()
    assert design_from_table(d.to_nested()).values == d.values


@pytest.mark.parametrize("table, key, fragment", [
    ({"slots": {"count": 0}}, "slots.count", "from 1 to 16"),
    ({"slots": {"count": "ten"}}, "slots.count", "an integer"),
    ({"slots": {"count": 4.5}}, "slots.count", "an integer"),
    ({"slots": {"pitch_mm": -3}}, "slots.pitch_mm", 'or "auto"'),
    ({"node": {"model": "pi4"}}, "node.model", "did you mean 'pi4b'"),
    ({"node": {"model": "jetson"}}, "node.model", "'pi3bplus', 'pi4b', 'pi5'"),
    ({"cooling": {"fan_size_mm": 70}}, "cooling.fan_size_mm", "40, 60, 80, 92, 120"),
    ({"printer": {"bed_mm": [256, 256]}}, "printer.bed_mm", "three numbers"),
    ({"printer": {"material": "PTEG"}}, "printer.material", "did you mean 'PETG'"),
    ({"slot": {"count": 4}}, "slot.count", "did you mean 'slots.count'"),
    ({"slots": {"cuont": 4}}, "slots.cuont", "did you mean 'slots.count'"),
    ({"cooling": {"fan_cont": 4}}, "cooling.fan_cont", "did you mean 'cooling.fan_count'"),
    ({"rack": {"units": "two"}}, "rack.units", 'or "auto"'),
    ({"name": "../evil"}, "name", "letters, digits"),
    ({"node": {"heatsink_height_mm": True}}, "node.heatsink_height_mm", "a number"),
])
def test_bad_values_name_the_key_and_what_is_allowed(table, key, fragment):
    with pytest.raises(DesignError) as err:
        design_from_table({"name": "x", **table})
    assert err.value.key == key
    assert key in str(err.value)
    assert fragment in str(err.value)


def test_syntax_error_names_the_file(write_design):
    path = write_design("name = 'x'\n[slots\ncount = 3\n")
    with pytest.raises(DesignError) as err:
        load_design(path)
    assert "not valid TOML" in str(err.value)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(DesignError, match="does not exist"):
        load_design(tmp_path / "nope.toml")


def test_written_table_parses_back(write_design):
    table = default_table()
    assert load_design(write_design(table)).values == load_design().values
    assert toml_dumps(table)
