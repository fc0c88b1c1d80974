"""mech.render: the three PNG renders of the assembly exist and are not blank."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.slow
def test_render_stage_writes_three_non_trivial_pngs(tmp_path):
    import matplotlib.image as mpimg

    from rackplane.pipeline import Progress, run_stages
    from rackplane.design import load_design
    from rackplane.resolve import resolve_design

    design = resolve_design(load_design().replace(slots__count=4, cooling__fan_size_mm=40))
    ctx, runs = run_stages(design, tmp_path / "cache", {"mech.render"}, Progress(enabled=False))
    facts = ctx.facts["mech.render"]
    folder = ctx.stage_dirs["mech.render"]
    assert set(facts["renders"]) == {"render_iso", "render_front", "render_top"}
    for name in facts["renders"].values():
        img = mpimg.imread(folder / name)[..., :3]
        assert img.shape[0] >= 600 and img.shape[1] >= 1000
        assert float(img.std()) > 0.05                       # not a blank page
        not_white = np.any(img < 0.95, axis=2).mean()
        assert not_white > 0.05                              # the assembly covers part of it
    assert facts["triangles"]["printed"] > 0 and facts["triangles"]["node"] > 0
