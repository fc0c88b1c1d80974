"""Layout: every derived position and size of a resolved design, computed once.

Axes: X across the rack (left to right seen from the front, 0 on the rack's centreline), Y depth
(0 at the front face of the panel, growing toward the rear), Z up (0 at the underside of the
chassis floor). Millimetres throughout.

A sled, seen from the front::

        Pi board      carrier (slot plane, x = slot.x_mm)
           |  <-- 11 mm -->|
     ______|_______________|____
    |  tall|ports          |  buck|   <- envelope from envelope_x0 to envelope_x1
    |      |         header|      |   <- the 40-pin header near the BOTTOM (Pi py = 52.5)
    |______|_______________|______|
       Pi underside                 outer face

The Pi stands on its long edge with its USB/Ethernet edge (Pi px = 85) facing the front (-Y); its
component face points to +X, toward the carrier, which the 40-pin header joins. Seen from the
component side (from +X, Z up) the viewer's right is +Y (the rear), so for the Pi's +px to point
to the front the board is upside down: its +py points down (-Z), and its 40-pin header edge
(py = 56) is the board's lower edge, its USB-C/HDMI edge (py = 0) the upper one. Side view of
the Pi, seen from its component face (from +X)::

     z ^   py = 0 (USB-C / HDMI edge)
       |  +--------------------------------+
       |  | px = 85                 px = 0 |
       |  | (USB/RJ45,         (rear edge) |
       |  |  front)     [::::::header::::] |
       |  +--------------------------------+   <- pi_z0_mm
       |   py = 56 (40-pin header edge)
       +------------------------------------> y (rear)

The carrier's rear tail carries the slot connector, which mates the backplane. Both the PCB
generators and the frame read the positions below; neither computes one of its own.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

from rackplane import catalogue
from rackplane.design import Design, DesignError


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in rack coordinates (mm)."""

    x0: float
    x1: float
    y0: float
    y1: float
    z0: float
    z1: float

    @property
    def size(self) -> tuple[float, float, float]:
        return (self.x1 - self.x0, self.y1 - self.y0, self.z1 - self.z0)

    @property
    def centre(self) -> tuple[float, float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2, (self.z0 + self.z1) / 2)

    def shifted(self, dx: float = 0.0, dy: float = 0.0, dz: float = 0.0) -> "Box":
        return Box(self.x0 + dx, self.x1 + dx, self.y0 + dy, self.y1 + dy, self.z0 + dz, self.z1 + dz)


@dataclass(frozen=True)
class Sled:
    """One sled's geometry relative to its slot plane (x offsets) and in rack Y and Z.

    Pi board coordinates (px, py) map to rack coordinates as y = pi_front_y_mm + (85 - px),
    z = pi_z0_mm + (56 - py): the Pi's component face looks toward +X with its px = 85 edge at
    the front, so its py axis points down. See `pi_to_rack`, the only place that maps them.
    """

    pi_board_length_mm: float     # along the Pi's px axis (85 mm)
    pi_board_width_mm: float      # along the Pi's py axis (56 mm)
    pi_front_y_mm: float          # rack y of the Pi's front (USB/Ethernet, px = 85) edge
    pi_z0_mm: float               # rack z of the Pi board's lower edge (its py = 56, header edge)
    pi_top_face_dx_mm: float      # x of the Pi's component face relative to the slot plane
    pi_thickness_mm: float
    pi_to_carrier_mm: float       # Pi component face to carrier inner face
    carrier_thickness_mm: float
    carrier_y0_mm: float          # front edge of the carrier
    carrier_y1_mm: float          # rear edge of the carrier (the slot connector's edge)
    carrier_z0_mm: float
    carrier_z1_mm: float
    envelope_dx0_mm: float        # envelope extent relative to the slot plane
    envelope_dx1_mm: float
    faceplate_y0_mm: float
    faceplate_y1_mm: float
    heatsink_top_dx_mm: float     # x of the heatsink's top relative to the slot plane
    connector_dx_mm: float        # slot connector centre relative to the slot plane
    connector_z_mm: float         # slot connector centre height

    @property
    def envelope_width_mm(self) -> float:
        return self.envelope_dx1_mm - self.envelope_dx0_mm

    def pi_to_rack(self, px: float, py: float) -> tuple[float, float]:
        """(y, z) in rack coordinates of the Pi board point (px, py) (the node catalogue's frame:
        origin bottom-left seen from the component side). px = 85 (USB/Ethernet) is the front,
        py = 56 (40-pin header edge) the board's lower edge: z falls as py grows."""
        return (self.pi_front_y_mm + (self.pi_board_length_mm - px),
                self.pi_z0_mm + (self.pi_board_width_mm - py))


@dataclass(frozen=True)
class Slot:
    index: int          # 1-based, left to right seen from the front
    x_mm: float         # x of the carrier's centre plane

    def label(self) -> str:
        return f"slot {self.index}"


@dataclass(frozen=True)
class BackplaneModule:
    """One backplane board of the chain, left to right seen from the front. Every module is the
    same board (`module_slots` socket positions); the last one may leave positions empty."""
    index: int                                   # 1-based
    box: Box
    slot_indices: tuple[int, ...]                # the slots whose sockets it carries
    holes_xz_mm: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Fan:
    index: int
    x_mm: float
    z_mm: float
    size_mm: int
    hole_spacing_mm: float
    thickness_mm: float


@dataclass(frozen=True)
class Layout:
    """Everything derived from a resolved Design. Read by the PCB, the frame and the checks."""

    rack_units: int
    panel_width_mm: float
    panel_height_mm: float
    panel_thickness_mm: float
    ear_hole_x_mm: tuple[float, float]
    ear_hole_z_mm: tuple[float, ...]
    body: Box                       # outside of the chassis body behind the panel
    interior: Box                   # free space inside walls, floor and roof
    wall_mm: float
    floor_mm: float
    pitch_mm: float
    sled: Sled
    slots: tuple[Slot, ...]
    guides: tuple[Box, ...]         # lower card guide ribs, one per slot
    upper_guides: tuple[Box, ...]   # upper card guide ribs, one per slot
    backplane: Box                  # the whole backplane: one board, or the span of its modules
    backplane_holes_xz_mm: tuple[tuple[float, float], ...]   # every module's holes
    backplane_hole_d_mm: float
    backplane_modules: tuple[BackplaneModule, ...]   # one module when the backplane is not split
    module_slots: int               # socket positions per module board
    fan_wall_y_mm: float
    fans: tuple[Fan, ...]
    split_x_mm: tuple[float, ...]   # cut planes that divide wide printed parts into bed-sized pieces
    roof: Box                       # roof plate over the body (the upper guides hang from it)
    side_walls: tuple[Box, Box]     # left and right walls between floor and roof
    rear_wall: Box                  # rear wall between the side walls, with the exhaust vents
    fan_wall: Box                   # plate the fans are screwed to (its rear face at fan_wall_y_mm)
    baffles: tuple[Box, Box]        # left and right air baffles beside the outer sleds
    backplane_mount: Box            # plate behind the backplane that carries its standoffs
    backplane_standoffs_y_mm: tuple[float, float]   # standoff span: backplane rear face to the mount
    backplane_standoff_d_mm: float
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def is_split(self) -> bool:
        """Whether the backplane is a chain of module boards."""
        return len(self.backplane_modules) > 1

    def module_board(self) -> "Layout":
        """This Layout as the backplane board sees it: module 1's outline, holes and socket
        positions (every module is the same board). Unsplit, the Layout itself."""
        if not self.is_split:
            return self
        first = self.backplane_modules[0]
        x1 = self.slots[0].x_mm
        slots = tuple(Slot(i + 1, round(x1 + i * self.pitch_mm, 4)) for i in range(self.module_slots))
        return replace(self, slots=slots, backplane=first.box, backplane_holes_xz_mm=first.holes_xz_mm,
                       backplane_modules=(first,))

    def module_offset_x_mm(self, module: BackplaneModule) -> float:
        """X shift (mm) from module 1 to `module`: its holes, sockets and copper are module 1's moved by it."""
        return round(module.box.x0 - self.backplane_modules[0].box.x0, 4)

    def slot_envelope(self, slot: Slot) -> Box:
        """The box a seated sled occupies (Pi, heatsink, carrier, faceplate excluded)."""
        s = self.sled
        return Box(slot.x_mm + s.envelope_dx0_mm, slot.x_mm + s.envelope_dx1_mm,
                   s.faceplate_y1_mm, s.carrier_y1_mm, s.carrier_z0_mm, s.carrier_z1_mm)


# ----------------------------------------------------------------------------------------------
# Quantities that `resolve` needs before a Layout exists (they set rack units and pitch).

def sled_profile(design: Design) -> dict[str, float]:
    """X extents of a sled relative to its slot plane and the height it needs.

    Returns envelope_dx0_mm, envelope_dx1_mm (the sled's thickness across the rack),
    pi_to_carrier_mm (grown past 11 mm when the heatsink needs it) and interior_height_mm
    (floor top to the underside of the roof).
    """
    node = catalogue.node(design["node.model"])
    sled = catalogue.sled()
    chassis = catalogue.chassis()
    t_c = sled["carrier_thickness_mm"]
    heatsink_clearance_mm = 1.0
    pi_to_carrier = max(sled["pi_to_carrier_mm"],
                        design["node.heatsink_height_mm"] + heatsink_clearance_mm)
    pi_top_dx = -t_c / 2 - pi_to_carrier
    dx0 = pi_top_dx - node.board_thickness_mm - node.bottom_height_mm
    conn = catalogue.slot_connector()
    # the carrier's outer face carries its parts and the horizontal slot connector (2 rows tall)
    dx1 = max(pi_top_dx + node.top_height_mm, t_c / 2 + sled["carrier_component_height_mm"],
              t_c / 2 + conn["row_offset_mm"] + conn["rows"] * conn["pitch_mm"] / 2)
    carrier_height = (node.board_mm[1] + sled["carrier_top_margin_mm"] + sled["carrier_bottom_margin_mm"]
                      + 2 * sled["guide_engagement_mm"])
    interior_height = (chassis["guide_height_mm"] - sled["guide_engagement_mm"]) * 2 \
        + carrier_height + sled["guide_clearance_mm"]
    return {"envelope_dx0_mm": dx0, "envelope_dx1_mm": dx1, "pi_to_carrier_mm": pi_to_carrier,
            "pi_top_dx_mm": pi_top_dx, "carrier_height_mm": carrier_height,
            "interior_height_mm": interior_height}


def min_pitch_mm(design: Design) -> float:
    """Sled envelope width plus the air gap: the narrowest pitch that leaves air between sleds."""
    p = sled_profile(design)
    return p["envelope_dx1_mm"] - p["envelope_dx0_mm"] + design["slots.air_gap_mm"]


def needed_height_mm(design: Design, fan_size_mm: int | None = None) -> float:
    """Outside height of the chassis body that the sleds and the fans need: fans of
    `fan_size_mm` (the design's size when None; 0 for the sleds alone)."""
    chassis = catalogue.chassis()
    fan_mm = catalogue.fan(design["cooling.fan_size_mm"]).size_mm if fan_size_mm is None else fan_size_mm
    interior = max(sled_profile(design)["interior_height_mm"], fan_mm)
    return interior + chassis["floor_mm"] + chassis["wall_mm"]


def interior_height_mm(units: int) -> float:
    """Free height inside a chassis of `units` rack units: the panel less floor and roof."""
    chassis = catalogue.chassis()
    return panel_height_mm(units) - chassis["floor_mm"] - chassis["wall_mm"]


def y_stack(design: Design) -> dict[str, float]:
    """Depth positions from the front face to the rear wall, in build order."""
    node = catalogue.node(design["node.model"])
    sled = catalogue.sled()
    chassis = catalogue.chassis()
    conn = catalogue.slot_connector()
    fan = catalogue.fan(design["cooling.fan_size_mm"])
    ys: dict[str, float] = {"faceplate_y0_mm": 0.0}
    ys["faceplate_y1_mm"] = ys["faceplate_y0_mm"] + sled["faceplate_thickness_mm"]
    ys["pi_front_y_mm"] = ys["faceplate_y1_mm"] + sled["faceplate_gap_mm"] + node.front_overhang_mm
    ys["carrier_y0_mm"] = ys["pi_front_y_mm"] + sled["carrier_front_setback_mm"]
    ys["carrier_y1_mm"] = ys["pi_front_y_mm"] + node.board_mm[0] + sled["carrier_tail_mm"]
    ys["backplane_y0_mm"] = ys["carrier_y1_mm"] + conn["body_depth_mm"]
    ys["fan_wall_y_mm"] = ys["backplane_y0_mm"] + chassis["backplane_thickness_mm"] + chassis["fan_wall_gap_mm"]
    ys["needed_depth_mm"] = (ys["fan_wall_y_mm"] + fan.thickness_mm + chassis["rear_clearance_mm"]
                             + chassis["wall_mm"])
    return ys


def panel_height_mm(units: int) -> float:
    eia = catalogue.eia310()
    return units * eia["unit_height_mm"] - eia["panel_height_clearance_mm"]


def body_width_mm() -> float:
    """Chassis body width: the EIA-310 body limit less a millimetre of side play per rail."""
    return catalogue.eia310()["max_body_width_mm"] - 2.0


# ----------------------------------------------------------------------------------------------

def _ear_hole_z(units: int) -> tuple[float, ...]:
    eia = catalogue.eia310()
    boundary0 = -eia["panel_height_clearance_mm"] / 2  # the rack unit boundary below the panel
    return tuple(round(boundary0 + u * eia["unit_height_mm"] + off, 4)
                 for u in range(units) for off in eia["hole_offsets_in_unit_mm"])


def _split_positions(width_mm: float, x_min: float, candidates: list[float], bed_x_mm: float,
                     margin_mm: float) -> tuple[float, ...]:
    """Cut positions (chosen from candidates) that divide [x_min, x_min + width] into the fewest
    pieces no wider than bed_x_mm - margin_mm, as equal as the candidates allow (no slivers).
    When the candidates allow no such split, the greedy split is returned and print.bed_fit
    reports the oversize piece."""
    limit = bed_x_mm - margin_mm
    end = x_min + width_mm
    if width_mm <= limit:
        return ()
    pieces_min = math.ceil(width_mm / limit)
    for pieces in range(pieces_min, pieces_min + 4):
        cuts = []
        for i in range(1, pieces):
            target = x_min + i * width_mm / pieces
            usable = [c for c in candidates if (cuts[-1] if cuts else x_min) < c < end]
            if not usable:
                break
            cuts.append(min(usable, key=lambda c: abs(c - target)))
        edges = [x_min, *cuts, end]
        if len(cuts) == pieces - 1 and max(b - a for a, b in zip(edges, edges[1:])) <= limit:
            return tuple(round(c, 4) for c in cuts)
    cuts = []
    start = x_min
    while end - start > limit:
        usable = [c for c in candidates if start < c <= start + limit]
        if not usable:
            break
        start = max(usable)  # unrounded: a rounded cut could fall back onto `start` and stall
        cuts.append(round(start, 4))
    return tuple(cuts)


def _mounting_hole_columns(x0: float, x1: float, slot_xs: list[float], pitch: float,
                           max_spacing: float, edge: float) -> list[float]:
    """Hole columns at the board ends and at midpoints between slots, no further apart than
    max_spacing."""
    mids = [(a + b) / 2 for a, b in zip(slot_xs, slot_xs[1:])]
    cols = [x0 + edge]
    right = x1 - edge
    while right - cols[-1] > max_spacing:
        reachable = [m for m in mids if cols[-1] + pitch / 2 < m <= cols[-1] + max_spacing]
        if not reachable:
            break
        cols.append(max(reachable))
    cols.append(right)
    return cols


def module_count_and_slots(count: int, pitch_mm: float, max_board_length_mm: float) -> tuple[int, int]:
    """(modules, socket positions per module): the fewest identical modules, each at most
    max_board_length_mm long (k positions x pitch), that hold `count` slots."""
    if count * pitch_mm <= max_board_length_mm:
        return 1, count
    k_max = math.floor(max_board_length_mm / pitch_mm)
    if k_max < 1:
        raise DesignError("pcb.max_board_length_mm", max_board_length_mm,
                          f"at least the slot pitch ({pitch_mm:g} mm): a module holds one slot or more")
    modules = math.ceil(count / k_max)
    return modules, math.ceil(count / modules)


def _backplane_modules(design: Design, conn_xs: list[float], pitch: float, interior: Box,
                       y_mm: tuple[float, float], z_mm: tuple[float, float],
                       chassis: dict) -> tuple[BackplaneModule, ...]:
    """The backplane's board(s): their X extents here, Y and Z the backplane's (`y_mm`, `z_mm`).

    Unsplit: the board runs half a pitch (at least a mounting hole's margin) past the outer
    connectors; a single slot gets 40 mm either side for the power input. Split: module j spans
    k socket positions from half a pitch left of its first one, less `module_gap_mm`; module 1's
    holes repeat in every module at the module pitch (k x pitch), so the boards are identical."""
    count = len(conn_xs)
    edge = chassis["mounting_hole_edge_mm"]
    hole_d = chassis["mounting_hole_d_mm"]
    spacing = chassis["max_mounting_hole_spacing_mm"]
    y0, y1 = y_mm
    z0, z1 = z_mm
    # a row of slots too wide for the chassis is mech.slot_fit's verdict: its backplane stays whole
    row_fits = conn_xs[0] - pitch / 2 >= interior.x0 and conn_xs[-1] + pitch / 2 <= interior.x1
    n_mod, k = module_count_and_slots(count, pitch, design["pcb.max_board_length_mm"]) if row_fits else (1, count)

    def holes_of(x0, x1, xs):
        cols = _mounting_hole_columns(x0, x1, xs, pitch, spacing, edge)
        return tuple((round(x, 4), round(z, 4)) for x in cols for z in (z0 + edge, z1 - edge))

    if n_mod == 1:
        margin_x = max(edge * 2 + hole_d, pitch / 2)
        x0 = max(min(conn_xs) - margin_x, interior.x0)
        x1 = min(max(conn_xs) + margin_x, interior.x1)
        if count == 1:  # room for the power input and management beside a single slot
            x0 = max(conn_xs[0] - 40.0, interior.x0)
            x1 = min(conn_xs[0] + 40.0, interior.x1)
        box = Box(round(x0, 4), round(x1, 4), y0, y1, z0, z1)
        return (BackplaneModule(1, box, tuple(range(1, count + 1)), holes_of(box.x0, box.x1, conn_xs)),)
    gap = chassis["module_gap_mm"]
    if pitch / 2 - gap / 2 < edge * 2 + hole_d:
        raise DesignError("pcb.max_board_length_mm", design["pcb.max_board_length_mm"],
                          f"a length that keeps the backplane whole at this pitch ({pitch:g} mm): split "
                          f"modules need half a pitch of at least {edge * 2 + hole_d + gap / 2:g} mm at their ends")
    x0 = conn_xs[0] - pitch / 2 + gap / 2
    width = k * pitch - gap
    first_xs = [conn_xs[0] + i * pitch for i in range(k)]
    first_holes = holes_of(x0, x0 + width, first_xs)
    if x0 + (n_mod - 1) * k * pitch + width > interior.x1 + 1e-6:
        raise DesignError("pcb.max_board_length_mm", design["pcb.max_board_length_mm"],
                          f"a length whose modules fit the chassis: {n_mod} modules of {k} positions "
                          f"run {n_mod * k * pitch:.1f} mm from slot 1 past the right wall",
                          "a longer board gives fewer empty positions in the last module")
    out = []
    for j in range(n_mod):
        dx = j * k * pitch
        box = Box(round(x0 + dx, 4), round(x0 + dx + width, 4), y0, y1, z0, z1)
        slots_here = tuple(i + 1 for i in range(j * k, min((j + 1) * k, count)))
        out.append(BackplaneModule(j + 1, box, slots_here,
                                   tuple((round(x + dx, 4), z) for x, z in first_holes)))
    return tuple(out)


def compute_layout(design: Design) -> Layout:
    """Derive every position from a resolved design (no "auto" left)."""
    for key in ("rack.units", "slots.pitch_mm", "cooling.fan_count", "rack.depth_mm"):
        if design.is_auto(key):
            raise ValueError(f"{key} is still 'auto': resolve the design first")
    node = catalogue.node(design["node.model"])
    sled_data = catalogue.sled()
    chassis = catalogue.chassis()
    eia = catalogue.eia310()
    conn = catalogue.slot_connector()
    fan_data = catalogue.fan(design["cooling.fan_size_mm"])
    profile = sled_profile(design)

    units = design["rack.units"]
    pitch = design["slots.pitch_mm"]
    count = design["slots.count"]
    wall = chassis["wall_mm"]
    floor = chassis["floor_mm"]
    panel_t = chassis["panel_thickness_mm"]
    panel_h = panel_height_mm(units)
    body_w = body_width_mm()
    depth = design["rack.depth_mm"]

    # --- sled, along Y and Z ------------------------------------------------------------------
    ys = y_stack(design)
    face_y0, face_y1 = ys["faceplate_y0_mm"], ys["faceplate_y1_mm"]
    pi_front_y = ys["pi_front_y_mm"]
    pi_len = node.board_mm[0]
    carrier_y0, carrier_y1 = ys["carrier_y0_mm"], ys["carrier_y1_mm"]
    carrier_z0 = floor + chassis["guide_height_mm"] - sled_data["guide_engagement_mm"]
    pi_z0 = carrier_z0 + sled_data["guide_engagement_mm"] + sled_data["carrier_bottom_margin_mm"]
    carrier_z1 = carrier_z0 + profile["carrier_height_mm"]
    t_c = sled_data["carrier_thickness_mm"]
    sled = Sled(
        pi_board_length_mm=pi_len,
        pi_board_width_mm=node.board_mm[1],
        pi_front_y_mm=pi_front_y,
        pi_z0_mm=pi_z0,
        pi_top_face_dx_mm=profile["pi_top_dx_mm"],
        pi_thickness_mm=node.board_thickness_mm,
        pi_to_carrier_mm=profile["pi_to_carrier_mm"],
        carrier_thickness_mm=t_c,
        carrier_y0_mm=carrier_y0,
        carrier_y1_mm=carrier_y1,
        carrier_z0_mm=carrier_z0,
        carrier_z1_mm=carrier_z1,
        envelope_dx0_mm=profile["envelope_dx0_mm"],
        envelope_dx1_mm=profile["envelope_dx1_mm"],
        faceplate_y0_mm=face_y0,
        faceplate_y1_mm=face_y1,
        heatsink_top_dx_mm=profile["pi_top_dx_mm"] + design["node.heatsink_height_mm"],
        connector_dx_mm=t_c / 2 + conn["row_offset_mm"],
        connector_z_mm=carrier_z0 + conn["z_centre_above_carrier_bottom_mm"],
    )

    # --- slots across X: the row of envelopes centred on the rack ------------------------------
    env_centre_dx = (sled.envelope_dx0_mm + sled.envelope_dx1_mm) / 2
    slots = tuple(Slot(i + 1, round((i - (count - 1) / 2) * pitch - env_centre_dx, 4))
                  for i in range(count))

    # --- chassis -------------------------------------------------------------------------------
    body = Box(-body_w / 2, body_w / 2, panel_t, depth, 0.0, panel_h)
    interior = Box(body.x0 + wall, body.x1 - wall, panel_t, depth - wall, floor, body.z1 - wall)

    gh = chassis["guide_height_mm"]
    gw = chassis["guide_width_mm"]
    guide_y0 = face_y1 + sled_data["faceplate_gap_mm"]
    guides = tuple(Box(s.x_mm - gw / 2, s.x_mm + gw / 2, max(guide_y0, panel_t), carrier_y1,
                       floor, floor + gh) for s in slots)
    upper_z0 = carrier_z1 + sled_data["guide_clearance_mm"] - sled_data["guide_engagement_mm"]
    upper_guides = tuple(Box(g.x0, g.x1, g.y0, g.y1, upper_z0, max(interior.z1, upper_z0 + gh))
                         for g in guides)

    # --- backplane: one board, or identical modules chained by link connectors ----------------
    bp_y0 = ys["backplane_y0_mm"]
    bp_t = chassis["backplane_thickness_mm"]
    conn_xs = [s.x_mm + sled.connector_dx_mm for s in slots]
    bp_z0 = floor + 1.0
    bp_z1 = bp_z0 + chassis["backplane_height_mm"]
    modules = _backplane_modules(design, conn_xs, pitch, interior, (bp_y0, bp_y0 + bp_t), (bp_z0, bp_z1), chassis)
    backplane = Box(modules[0].box.x0, modules[-1].box.x1, bp_y0, bp_y0 + bp_t, bp_z0, bp_z1)
    holes = tuple(h for m in modules for h in m.holes_xz_mm)

    # --- fan wall ------------------------------------------------------------------------------
    fan_wall_y = ys["fan_wall_y_mm"]
    n_fans = design["cooling.fan_count"]
    fan_size = fan_data.size_mm
    span = (slots[-1].x_mm + sled.envelope_dx1_mm) - (slots[0].x_mm + sled.envelope_dx0_mm)
    span_centre = ((slots[-1].x_mm + sled.envelope_dx1_mm) + (slots[0].x_mm + sled.envelope_dx0_mm)) / 2
    fan_pitch = max(fan_size + 2.0, span / n_fans) if n_fans > 1 else 0.0
    fan_z = (interior.z0 + interior.z1) / 2
    fans = tuple(Fan(i + 1, round(span_centre + (i - (n_fans - 1) / 2) * fan_pitch, 4), round(fan_z, 4),
                     fan_size, fan_data.hole_spacing_mm, fan_data.thickness_mm) for i in range(n_fans))

    # --- print splitting: cut between slots so no guide or window is cut ------------------------
    bed_x = design["printer.bed_mm"][0]
    split_margin_mm = 4.0
    candidates = [(a.x_mm + b.x_mm) / 2 + (sled.envelope_dx0_mm + sled.envelope_dx1_mm) / 2
                  for a, b in zip(slots, slots[1:])]
    candidates += [body.x0 + k * 0.5 for k in range(1, int(body_w * 2))
                   if not any(abs(body.x0 + k * 0.5 - (s.x_mm + env_centre_dx)) < pitch / 2 for s in slots)]
    split = _split_positions(eia["panel_width_mm"], -eia["panel_width_mm"] / 2, sorted(set(candidates)),
                             bed_x, split_margin_mm)

    # --- enclosure: roof, walls, fan wall, baffles, backplane mount ----------------------------
    enc = catalogue.enclosure()
    roof = Box(body.x0, body.x1, body.y0, body.y1, interior.z1, body.z1)
    side_walls = (Box(body.x0, interior.x0, body.y0, body.y1, floor, interior.z1),
                  Box(interior.x1, body.x1, body.y0, body.y1, floor, interior.z1))
    rear_wall = Box(interior.x0, interior.x1, interior.y1, body.y1, floor, interior.z1)
    fan_wall = Box(interior.x0, interior.x1, fan_wall_y - wall, fan_wall_y, floor, interior.z1)
    row_x0 = slots[0].x_mm + sled.envelope_dx0_mm
    row_x1 = slots[-1].x_mm + sled.envelope_dx1_mm
    bg, bt = enc["baffle_gap_mm"], enc["baffle_thickness_mm"]
    baffles = (Box(round(max(row_x0 - bg - bt, interior.x0), 4), round(max(row_x0 - bg, interior.x0 + bt), 4),
                   panel_t, fan_wall.y0, floor, interior.z1),
               Box(round(min(row_x1 + bg, interior.x1 - bt), 4), round(min(row_x1 + bg + bt, interior.x1), 4),
                   panel_t, fan_wall.y0, floor, interior.z1))
    so_y1 = backplane.y1 + enc["backplane_standoff_length_mm"]
    backplane_mount = Box(backplane.x0, backplane.x1, so_y1, so_y1 + wall, floor, backplane.z1)

    info = {
        "node_title": node.title,
        "sled_envelope_width_mm": round(sled.envelope_width_mm, 3),
        "min_pitch_mm": round(min_pitch_mm(design), 3),
        "slot_span_mm": round(span, 3),
        "interior_height_needed_mm": round(profile["interior_height_mm"], 3),
    }
    return Layout(
        rack_units=units,
        panel_width_mm=eia["panel_width_mm"],
        panel_height_mm=round(panel_h, 4),
        panel_thickness_mm=panel_t,
        ear_hole_x_mm=(-eia["ear_hole_spacing_mm"] / 2, eia["ear_hole_spacing_mm"] / 2),
        ear_hole_z_mm=_ear_hole_z(units),
        body=body,
        interior=interior,
        wall_mm=wall,
        floor_mm=floor,
        pitch_mm=pitch,
        sled=sled,
        slots=slots,
        guides=guides,
        upper_guides=upper_guides,
        backplane=backplane,
        backplane_holes_xz_mm=holes,
        backplane_hole_d_mm=chassis["mounting_hole_d_mm"],
        backplane_modules=modules,
        module_slots=len(modules[0].slot_indices),
        fan_wall_y_mm=fan_wall_y,
        fans=fans,
        split_x_mm=split,
        roof=roof,
        side_walls=side_walls,
        rear_wall=rear_wall,
        fan_wall=fan_wall,
        baffles=baffles,
        backplane_mount=backplane_mount,
        backplane_standoffs_y_mm=(backplane.y1, so_y1),
        backplane_standoff_d_mm=enc["backplane_standoff_d_mm"],
        info=info,
    )


def fans_fitting_across(design: Design) -> int:
    """How many fans of the design's size fit side by side inside the body."""
    fan = catalogue.fan(design["cooling.fan_size_mm"])
    inner = body_width_mm() - 2 * catalogue.chassis()["wall_mm"]
    return max(0, math.floor((inner + 2.0) / (fan.size_mm + 2.0)))
