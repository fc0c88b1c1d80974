"""Catalogue data: every figure has a source; loaders give what the data files say."""

from rackplane import catalogue


def test_every_figure_has_a_source():
    assert catalogue.unsourced_figures() == []


def test_models_fans_and_materials_are_listed():
    assert {"pi3bplus", "pi4b", "pi5"} <= set(catalogue.node_models())
    assert {40, 60, 80, 92, 120} <= set(catalogue.fan_sizes())
    assert "PETG" in catalogue.material_names()


def test_pi_mounting_holes_are_the_58_by_49_pattern():
    for model in catalogue.node_models():
        holes = catalogue.node(model).mounting_holes_mm
        xs = sorted({x for x, _ in holes})
        ys = sorted({y for _, y in holes})
        assert (xs[1] - xs[0], ys[1] - ys[0]) == (58.0, 49.0)


def test_fan_hole_spacing_grows_with_size():
    spacings = [catalogue.fan(s).hole_spacing_mm for s in catalogue.fan_sizes()]
    assert spacings == sorted(spacings)
    for s in catalogue.fan_sizes():
        assert catalogue.fan(s).hole_spacing_mm < s
