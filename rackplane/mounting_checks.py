"""Cross-domain mechanical check: the backplane's mounting holes, read back from the generated
.kicad_pcb, coincide with Layout's `backplane_holes_xz_mm`, where the frame puts its standoffs."""

from __future__ import annotations

import math

from rackplane.checks import Rule, check, error, worst_of

HOLE_POSITION_TOLERANCE_MM = 0.05  # a 3.2 mm hole over an M3 insert leaves 0.1 mm; half of it


@check("mech.mounting", "backplane mounting holes (read from the .kicad_pcb) on the frame's standoffs "
       "(Layout.backplane_holes_xz_mm)", needs=("pcb.board",))
def mounting(ctx):
    holes = ctx.facts["pcb.board"].get("holes")
    if holes is None:
        return error("mech.mounting", "the board stage recorded no mounting holes")
    wanted = list(ctx.layout.backplane_holes_xz_mm)
    if len(holes) != len(wanted):
        return worst_of("mech.mounting", [Rule(f"hole count on the board ({len(holes)}) vs standoffs "
                                               f"({len(wanted)})", abs(len(holes) - len(wanted)), 0, "holes", "<=",
                                               tuple(h["ref"] for h in holes))])
    rules = []
    for hole, (x, z) in zip(holes, wanted):
        err = math.hypot(hole["x_mm"] - x, hole["z_mm"] - z)
        d_err = abs(hole["d_mm"] - ctx.layout.backplane_hole_d_mm)
        rules.append(Rule(f"{hole['ref']} at ({hole['x_mm']:.3f}, {hole['z_mm']:.3f}) vs standoff ({x:.3f}, {z:.3f})",
                          err, HOLE_POSITION_TOLERANCE_MM, "mm", "<=", (hole["ref"],)))
        rules.append(Rule(f"{hole['ref']} drill {hole['d_mm']:g} mm vs {ctx.layout.backplane_hole_d_mm:g} mm",
                          d_err, HOLE_POSITION_TOLERANCE_MM, "mm", "<=", (hole["ref"],)))
    return worst_of("mech.mounting", rules)
