"""Mechanical checks: the rack standard, bed fit, printable solids, slicing.

They read the facts and files of `mech.frame` / `mech.slice` (never rebuild a solid) and compare
them with the standard (catalogue `eia310`) or the design (printer bed).
"""

from __future__ import annotations

import math

from rackplane import catalogue
from rackplane.checks import Rule, at_most, check, worst_of
from mechanical.stages import ASSEMBLY_STAGE, FRAME_STAGE, SLICE_STAGE

# mech.insertion: the plug may sit this much short of its nominal engagement (mm): a 2.54 mm
# header's contact point lies about 2 mm inside the socket's entry, so 1 mm short still mates.
ENGAGEMENT_TOLERANCE_MM = 1.0
# print.overhang: steepest unsupported face, from vertical (degrees), and the longest span that
# bridges without support (mm): FDM rules of thumb (layer-one; jakemakes: 45 deg; colorpop: 5 mm).
OVERHANG_DEG = 45.0
BRIDGE_MM = 5.0

# rack.eia310: how far a measured panel feature may sit from the standard (mm). The CAD model is
# exact, so this only absorbs float rounding; 0.1 mm is a quarter of a 0.4 mm nozzle line, far
# below the 7 mm ear slot's play around a 6 mm screw, so any real drawing error fails.
EIA310_TOLERANCE_MM = 0.1

# print.solid: largest relative difference between the STL mesh volume and the CAD volume (%).
# Chordal error of the 0.01 mm mesh on the ear slots measured below 1e-3 %; a missing or doubled
# feature moves the volume by whole percent.
VOLUME_TOLERANCE_PCT = 0.1


@check("rack.eia310", "front panel width, height and ear holes per EIA-310", needs=(FRAME_STAGE,))
def rack_eia310(ctx):
    """Rules (mm), each |measured - standard| <= EIA310_TOLERANCE_MM, the panel measured from its
    solid (facts `panel`):
    - panel width = 482.6; panel height = n * 44.45 - 0.79 with n the design's rack units;
    - ear hole horizontal spacing = 465.1 for every row, and the columns centred on the panel;
    - every EIA-310 hole position (0.25 / 0.875 / 1.5 in above each unit boundary, the panel
      centred in its n units) has a measured ear hole, and every measured ear hole sits on one
      (2D distance to the nearest; catches missing, extra and shifted holes).
    """
    eia = catalogue.eia310()
    panel = ctx.facts[FRAME_STAGE]["panel"]
    units = ctx.layout.rack_units
    tol = EIA310_TOLERANCE_MM
    part = ("front panel",)
    rules = [
        Rule("panel width deviation from 482.6 mm", abs(panel["width_mm"] - eia["panel_width_mm"]),
             tol, "mm", "<=", part),
        Rule(f"panel height deviation from {units} x 44.45 - 0.79 mm",
             abs(panel["height_mm"] - (units * eia["unit_height_mm"] - eia["panel_height_clearance_mm"])),
             tol, "mm", "<=", part),
    ]
    centre_x = panel["x0_mm"] + panel["width_mm"] / 2
    holes = [tuple(h) for h in panel["ear_holes_xz_mm"]]
    left = [h for h in holes if h[0] < centre_x]
    right = [h for h in holes if h[0] >= centre_x]
    if not left or not right:
        raise ValueError(f"ear holes found: {len(left)} left, {len(right)} right; need both columns")
    for xl, zl in left:
        xr, zr = min(right, key=lambda h: abs(h[1] - zl))
        name = f"ear holes at z = {zl:.2f} mm"
        rules.append(Rule(f"{name}: horizontal spacing deviation from {eia['ear_hole_spacing_mm']} mm",
                          abs((xr - xl) - eia["ear_hole_spacing_mm"]), tol, "mm", "<=", part))
        rules.append(Rule(f"{name}: offset of the hole pair's centre from the panel centre",
                          abs((xl + xr) / 2 - centre_x), tol, "mm", "<=", part))
    bottom_boundary_z = panel["z0_mm"] - eia["panel_height_clearance_mm"] / 2
    expected = [(centre_x + side * eia["ear_hole_spacing_mm"] / 2,
                 bottom_boundary_z + u * eia["unit_height_mm"] + off)
                for side in (-1, 1) for u in range(units) for off in eia["hole_offsets_in_unit_mm"]]
    for ex, ez in expected:
        d = min(math.hypot(x - ex, z - ez) for x, z in holes)
        rules.append(Rule(f"EIA-310 hole position ({ex:.2f}, {ez:.3f}) mm: distance to nearest ear hole",
                          d, tol, "mm", "<=", part))
    for x, z in holes:
        d = min(math.hypot(x - ex, z - ez) for ex, ez in expected)
        rules.append(Rule(f"ear hole at ({x:.2f}, {z:.3f}) mm: distance to nearest EIA-310 position",
                          d, tol, "mm", "<=", part))
    return worst_of("rack.eia310", rules)


def print_bed_fit_preflight(ctx):
    """Pre-flight rule (mm): each frame plate of Layout (a lower bound of its part), cut at the
    split planes and lying on its print face, fits the bed: its two bed-plane sides against the
    bed's sides (either way round), its height against the bed's height."""
    from mechanical.orientation import piece_sizes_mm

    bed = tuple(ctx.design["printer.bed_mm"])
    bed_long, bed_short = max(bed[:2]), min(bed[:2])
    rules = []
    for pid, (long_mm, short_mm, height_mm) in piece_sizes_mm(ctx.layout):
        margins = {"long side": bed_long - long_mm, "short side": bed_short - short_mm,
                   "height": bed[2] - height_mm}
        axis = min(margins, key=margins.get)
        rules.append(Rule(f"{pid} plate piece ({long_mm:.1f} x {short_mm:.1f} x {height_mm:.1f} mm before "
                          f"features) margin to the {bed[0]:g} x {bed[1]:g} x {bed[2]:g} mm bed, tightest: {axis}",
                          margins[axis], 0.0, "mm", ">=", (pid,)))
    return worst_of("print.bed_fit", rules)


@check("print.bed_fit", "every printed piece fits the printer's build volume as oriented",
       needs=(FRAME_STAGE,), preflight=print_bed_fit_preflight)
def print_bed_fit(ctx):
    """Rule (mm): for every piece, min over X, Y, Z of (bed size - piece bounding box size in its
    print orientation) >= 0, with the bed from `printer.bed_mm`. The value is the worst piece's
    smallest margin."""
    bed = tuple(ctx.design["printer.bed_mm"])
    pieces = ctx.facts[FRAME_STAGE]["pieces"]
    rules = []
    for piece in pieces:
        margins = [b - s for b, s in zip(bed, piece["bbox_mm"])]
        axis = "XYZ"[margins.index(min(margins))]
        size = " x ".join(f"{s:g}" for s in piece["bbox_mm"])
        rules.append(Rule(f"{piece['id']} ({size} mm) margin to the {bed[0]:g} x {bed[1]:g} x {bed[2]:g} mm "
                          f"bed, tightest along {axis}", min(margins), 0.0, "mm", ">=", (piece["id"],)))
    return worst_of("print.bed_fit", rules)


@check("print.solid", "every STL is watertight and its volume matches the CAD solid",
       needs=(FRAME_STAGE,))
def print_solid(ctx):
    """Rules: the number of STL pieces that are not watertight (trimesh) is 0; for every piece,
    |STL volume - CadQuery volume| / CadQuery volume <= VOLUME_TOLERANCE_PCT (%). A missing STL
    is an error (the check cannot run), never a pass."""
    import trimesh

    pieces = ctx.facts[FRAME_STAGE]["pieces"]
    leaky: list[str] = []
    details: list[dict] = []
    rules = []
    for piece in pieces:
        path = ctx.path(FRAME_STAGE, piece["file"])
        mesh = trimesh.load(str(path), file_type="stl", force="mesh")
        watertight = bool(mesh.is_watertight)
        cad = piece["volume_mm3"]
        error_pct = abs(float(mesh.volume) - cad) / cad * 100.0
        details.append({"piece": piece["id"], "watertight": watertight,
                        "stl_volume_mm3": round(float(mesh.volume), 3), "cad_volume_mm3": cad,
                        "volume_error_pct": round(error_pct, 6)})
        if not watertight:
            leaky.append(piece["id"])
        rules.append(Rule(f"{piece['id']} STL volume vs CAD volume ({cad:.0f} mm^3)", error_pct,
                          VOLUME_TOLERANCE_PCT, "%", "<=", (piece["id"],)))
    if not pieces:
        raise ValueError("mech.frame produced no pieces")
    if leaky:
        return at_most("print.solid", len(leaky), 0, "pieces", "STL pieces that are not watertight",
                       leaky, details)
    result = worst_of("print.solid", rules)
    result.details = details
    return result


@check("print.slice", "PrusaSlicer slices every printed piece; filament and time per piece",
       needs=(FRAME_STAGE, SLICE_STAGE))
def print_slice(ctx):
    """Rule: the number of frame pieces without a sliced G-code that uses filament is 0. The
    details carry filament (g, mm) and print time (s) per piece for the report."""
    sliced = {p["id"]: p for p in ctx.facts[SLICE_STAGE]["pieces"]}
    missing = []
    for piece in ctx.facts[FRAME_STAGE]["pieces"]:
        result = sliced.get(piece["id"])
        if result is None or result["filament_g"] <= 0 or not ctx.path(SLICE_STAGE, result["gcode"]).exists():
            missing.append(piece["id"])
    facts = ctx.facts[SLICE_STAGE]
    hours = facts["print_time_s"] / 3600
    result = at_most("print.slice", len(missing), 0, "pieces",
                     f"pieces not sliced ({len(sliced)} sliced: {facts['filament_g']:.0f} g "
                     f"{facts['material']}, {hours:.1f} h in total)", missing, list(sliced.values()))
    return result


@check("mech.clearance", "no two bodies closer than the limit, none interfering, except declared mates",
       needs=(ASSEMBLY_STAGE,))
def mech_clearance(ctx):
    """Rule (mm): for every pair of bodies (frame parts, sled bodies, backplane, fans) that is not
    a declared mate, B-rep gap >= MIN_GAP_MM (mechanical.bodies); interference counts as gap 0
    and its overlap volume is named. Pairs whose boxes (or faces' boxes) are farther apart than
    the limit are clear and not listed. The value is the closest pair's gap."""
    a = ctx.facts[ASSEMBLY_STAGE]
    limit = a["min_gap_mm"]
    rules = []
    for p in a["pairs"]:
        if p["mate"] is not None:
            continue
        what = f"gap between {p['a']} and {p['b']}"
        if p["overlap_mm3"] > 1e-3:
            what += f" (they overlap by {p['overlap_mm3']:.1f} mm^3)"
        rules.append(Rule(what, p["gap_mm"] - (1e-6 * p["overlap_mm3"]), limit, "mm", ">=", (p["a"], p["b"])))
    if not rules:
        rules.append(Rule("no pair of bodies within the limit", limit, limit, "mm", ">="))
    return worst_of("mech.clearance", rules)


@check("mech.insertion", "each sled slides in touching only its guides; the connector engages",
       needs=(ASSEMBLY_STAGE,))
def mech_insertion(ctx):
    """Rules (mm): every sled body swept from outside the panel to seated keeps >= MIN_GAP_MM from
    every fixed body except the carrier in its guides (floor, roof) and at its socket; each plug's
    measured depth in its socket lies within [engagement_mm - ENGAGEMENT_TOLERANCE_MM,
    body_depth_mm] of the slot connector (catalogue connectors.toml)."""
    a = ctx.facts[ASSEMBLY_STAGE]
    conn = catalogue.slot_connector()
    limit = a["min_gap_mm"]
    rules = []
    for s in a["sweeps"]:
        if s["guide"]:
            continue
        what = f"{s['moving']} swept in from the front: gap to {s['fixed']}"
        if s["overlap_mm3"] > 1e-3:
            what += f" (sweep overlaps it by {s['overlap_mm3']:.1f} mm^3)"
        rules.append(Rule(what, s["gap_mm"] - 1e-6 * s["overlap_mm3"], limit, "mm", ">=", (s["moving"], s["fixed"])))
    for e in a["engagement"]:
        name = f"slot {e['slot']} connector"
        rules.append(Rule(f"{name} engagement (nominal {conn['engagement_mm']:g} mm)", e["engagement_mm"],
                          conn["engagement_mm"] - ENGAGEMENT_TOLERANCE_MM, "mm", ">=", (name,)))
        rules.append(Rule(f"{name} engagement within the {conn['body_depth_mm']:g} mm socket", e["engagement_mm"],
                          conn["body_depth_mm"], "mm", "<=", (name,)))
    return worst_of("mech.insertion", rules)


@check("print.wall", "every printed feature is at least two nozzle widths thick", needs=(FRAME_STAGE,))
def print_wall(ctx):
    """Rule (mm): thinnest construction feature of each part >= 2 x `printer.nozzle_mm`.

    The figures are the features' sizes as built (plate thicknesses, rib and guard widths, lips
    and webs: `material_min_mm` in the part facts), not a mesh measurement: every printed part
    is made of these features, so its thinnest wall is the smallest of them."""
    nozzle = ctx.design["printer.nozzle_mm"]
    rules = []
    for pid, part in ctx.facts[FRAME_STAGE]["parts"].items():
        walls = part.get("material_min_mm") or {}
        if not walls:
            raise ValueError(f"part {pid} reports no wall features")
        name, value = min(walls.items(), key=lambda kv: kv[1])
        rules.append(Rule(f"{pid}: thinnest feature ({name})", value, 2 * nozzle, "mm", ">=", (pid,)))
    return worst_of("print.wall", rules)


def overhang_area_mm2(mesh, max_deg: float = OVERHANG_DEG, bridge_mm: float = BRIDGE_MM) -> tuple[float, float]:
    """(flagged area, largest flagged region's area) in mm^2 of a mesh in print orientation.

    Flagged: connected regions of triangles facing down more steeply than max_deg from vertical
    (normal z < -sin(max_deg)), not on the bed (z > 0.05 mm), whose region is wider than
    bridge_mm in both X and Y (a narrower one is a short bridge)."""
    import numpy as np
    import trimesh

    nz = mesh.face_normals[:, 2]
    zmin = mesh.triangles[:, :, 2].min(axis=1)
    down = np.nonzero((nz < -math.sin(math.radians(max_deg))) & (zmin > 0.05))[0]
    if len(down) == 0:
        return 0.0, 0.0
    adj = mesh.face_adjacency
    keep = np.isin(adj[:, 0], down) & np.isin(adj[:, 1], down)
    groups = trimesh.graph.connected_components(adj[keep], nodes=down, min_len=1)
    total = largest = 0.0
    for g in groups:
        pts = mesh.triangles[g].reshape(-1, 3)
        ext = pts.max(axis=0) - pts.min(axis=0)
        if min(ext[0], ext[1]) <= bridge_mm:
            continue
        area = float(mesh.area_faces[g].sum())
        total += area
        largest = max(largest, area)
    return total, largest


@check("print.overhang", "no unsupported overhang steeper than 45 degrees in print orientation",
       needs=(FRAME_STAGE,))
def print_overhang(ctx):
    """Rule (mm^2): per piece, area of unsupported overhang (see `overhang_area_mm2`: faces more
    than OVERHANG_DEG from vertical facing down, off the bed, wider than a BRIDGE_MM bridge) = 0,
    measured on the STL in its print orientation."""
    import trimesh

    rules = []
    for piece in ctx.facts[FRAME_STAGE]["pieces"]:
        mesh = trimesh.load(str(ctx.path(FRAME_STAGE, piece["file"])), file_type="stl", force="mesh")
        total, largest = overhang_area_mm2(mesh)
        rules.append(Rule(f"{piece['id']}: unsupported overhang area (largest region {largest:.1f} mm^2)",
                          total, 0.0, "mm^2", "<=", (piece["id"],)))
    return worst_of("print.overhang", rules)
