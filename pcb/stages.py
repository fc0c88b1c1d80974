"""The PCB build stages: backplane netlist -> board -> DRC, and fabrication files.

Every stage writes into `inp.workdir` (all land in the output's `pcb/` folder, so file names are
distinct across stages) and returns JSON facts for the checks.
"""

from __future__ import annotations

import json

from pcb import board as board_mod
from pcb import copper as copper_mod
from pcb import drc as drc_mod
from pcb import electrical
from pcb import fab as fab_mod
from pcb import pinout
from rackplane import catalogue
from rackplane.stages import StageInput, stage

# The backplane depends on the slots, the sled (node model, heatsink), the chassis and the fab
# rules; never on the printer. The fan keys are kept, as the backplane sits in front of the fans.
PCB_DESIGN_KEYS = ("rack.", "node.", "slots.", "power.", "cooling.fan_count", "cooling.fan_size_mm",
                   "cooling.ambient_c", "pcb.")


@stage("pcb.netlist", title="backplane, carrier and management board netlists (SKiDL), BOMs and ERC",
       out_subdir="pcb", design_keys=PCB_DESIGN_KEYS)
def backplane_netlist(inp: StageInput) -> dict:
    """Facts: the boards from `pcb.electrical.write_boards` (backplane_parts, carrier_parts and
    management_parts with groups and pins, erc per board, computed values, i2c, power, board_files:
    `board_files.backplane_netlist` is what pcb.board lays out), slot_pinout (with each pin's
    current, A) and pinout_problems."""
    facts = electrical.write_boards(inp.design, inp.layout, inp.workdir)
    facts["slot_pinout"] = pinout.as_table(inp.design)
    facts["slot_supply_current_a"] = round(pinout.slot_supply_current_a(inp.design), 4)
    facts["pinout_problems"] = pinout.validate_pinout()
    return facts


@stage("pcb.board", title="backplane board (pcbnew): placement, copper, fab rules",
       needs=("pcb.netlist",), out_subdir="pcb", design_keys=PCB_DESIGN_KEYS)
def backplane_board(inp: StageInput) -> dict:
    """Facts: board file names, board_size_mm, holes and connectors (rack mm, read back from the
    saved board; a split backplane's module board is read once and its holes repeated at every
    module's place), the modules, zones, and the fab rules applied."""
    up = inp.upstream["pcb.netlist"]
    layout = inp.layout
    board_layout = layout.module_board()
    path = board_mod.build_board(inp.design, board_layout, up.path(up.facts["board_files"]["backplane_netlist"]),
                                 inp.workdir, part_facts=up.facts.get("backplane_parts"), chained=layout.is_split,
                                 pass_through=up.facts.get("pass_through", {}).get("backplane"))
    facts = board_mod.read_board_facts(board_layout, path)
    facts["modules"] = [{"index": m.index, "offset_x_mm": layout.module_offset_x_mm(m), "slots": list(m.slot_indices)}
                        for m in layout.backplane_modules]
    facts["module_slots"] = layout.module_slots
    facts["holes"] = [{**h, "ref": h["ref"] if m["index"] == 1 else f"{h['ref']} (module {m['index']})",
                       "x_mm": round(h["x_mm"] + m["offset_x_mm"], 4)}
                      for m in facts["modules"] for h in facts["holes"]]
    facts["files"] = {"board": path.name, "project": path.with_suffix(".kicad_pro").name,
                      "rules": path.with_suffix(board_mod.RULES_SUFFIX).name, "plan": board_mod.PLAN_FILE}
    facts["plan"] = json.loads((inp.workdir / board_mod.PLAN_FILE).read_text())
    feeds = {d["ref"]: tuple(d["in"]) for d in up.facts.get("pass_through", {}).get("backplane", [])}
    facts["copper"] = copper_mod.measure_board(
        inp.design, board_layout, path,
        tuple(len(m.slot_indices) for m in layout.backplane_modules) if layout.is_split else (), feeds)
    facts["design_hash"] = board_mod.design_hash(inp.design)
    facts["fab"] = inp.design["pcb.fab"]
    facts["fab_rules"] = catalogue.fab(inp.design["pcb.fab"])
    return facts


@stage("pcb.drc", title="backplane DRC (kicad-cli)", needs=("pcb.board",), out_subdir="pcb",
       design_keys=PCB_DESIGN_KEYS)
def backplane_drc(inp: StageInput) -> dict:
    """Facts: kicad-cli's DRC counts (violations, unconnected, by severity and type, the first
    few in full) and the report's file name."""
    up = inp.upstream["pcb.board"]
    summary = drc_mod.run_drc(up.path(up.facts["files"]["board"]), inp.workdir / drc_mod.DRC_REPORT_FILE)
    summary["report"] = drc_mod.DRC_REPORT_FILE
    return summary


@stage("pcb.fab", title="backplane Gerbers (KiKit), drill, placement, BOM and renders", needs=("pcb.board",), out_subdir="pcb",
       design_keys=PCB_DESIGN_KEYS, for_checks=False)
def backplane_fab(inp: StageInput) -> dict:
    """Facts: the Gerber zip's name, size and contents."""
    up = inp.upstream["pcb.board"]
    preset = catalogue.fab(inp.design["pcb.fab"])["kikit_preset"]
    board_path = up.path(up.facts["files"]["board"])
    facts = fab_mod.export_fab(board_path, inp.workdir, preset, zip_name=fab_mod.GERBER_ZIP)
    facts["kikit_preset"] = preset
    facts["outputs"] = fab_mod.export_outputs(board_path, inp.workdir)
    return facts


@stage("pcb.carrier_board", title="carrier board (pcbnew): placement from the sled, routing, ground pour",
       needs=("pcb.netlist",), out_subdir="pcb", design_keys=PCB_DESIGN_KEYS)
def carrier_board(inp: StageInput) -> dict:
    """Facts: the carrier board's files, its plan (size, buck anchor, power pours, track widths
    wanted and used, segment and via counts), the mating positions read back (Pi holes and socket
    pin 1 in rack y, z mm, slot header pin-field centre z) and `copper`: each power path's
    narrowest copper, current, IPC-2221 width and drop, measured on the saved board
    (`pcb.carrier_copper.measure_carrier`)."""
    from pcb import carrier_board as cb
    from pcb import carrier_copper

    up = inp.upstream["pcb.netlist"]
    net_path = up.path(up.facts["board_files"]["carrier_netlist"])
    path = cb.build_carrier(inp.design, inp.layout, net_path, inp.workdir, part_facts=up.facts.get("carrier_parts"))
    facts = cb.read_carrier_facts(inp.layout, path)
    facts["files"] = {"board": path.name, "project": path.with_suffix(".kicad_pro").name,
                      "rules": path.with_suffix(board_mod.RULES_SUFFIX).name, "plan": cb.PLAN_FILE}
    facts["plan"] = json.loads((inp.workdir / cb.PLAN_FILE).read_text())
    facts["copper"] = carrier_copper.measure_carrier(inp.design, path)
    facts["design_hash"] = board_mod.design_hash(inp.design)
    return facts


@stage("pcb.carrier_drc", title="carrier DRC (kicad-cli)", needs=("pcb.carrier_board",), out_subdir="pcb",
       design_keys=PCB_DESIGN_KEYS)
def carrier_drc(inp: StageInput) -> dict:
    """Facts: kicad-cli's DRC counts on the carrier (as pcb.drc's) and the report's file name."""
    up = inp.upstream["pcb.carrier_board"]
    summary = drc_mod.run_drc(up.path(up.facts["files"]["board"]), inp.workdir / CARRIER_DRC_REPORT)
    summary["report"] = CARRIER_DRC_REPORT
    return summary


CARRIER_DRC_REPORT = "carrier_drc.json"
CARRIER_GERBER_ZIP = "carrier_gerbers.zip"


@stage("pcb.carrier_fab", title="carrier Gerbers (KiKit), drill, placement, BOM and renders",
       needs=("pcb.carrier_board",), out_subdir="pcb", design_keys=PCB_DESIGN_KEYS, for_checks=False)
def carrier_fab(inp: StageInput) -> dict:
    """Facts: the carrier's Gerber zip (name, size, contents) and the other outputs' names."""
    up = inp.upstream["pcb.carrier_board"]
    preset = catalogue.fab(inp.design["pcb.fab"])["kikit_preset"]
    board_path = up.path(up.facts["files"]["board"])
    facts = fab_mod.export_fab(board_path, inp.workdir, preset, zip_name=CARRIER_GERBER_ZIP)
    facts["kikit_preset"] = preset
    facts["outputs"] = fab_mod.export_outputs(board_path, inp.workdir)
    return facts


@stage("pcb.management_board", title="management board (pcbnew): power band, placement, routing, ground pours",
       needs=("pcb.netlist",), out_subdir="pcb", design_keys=PCB_DESIGN_KEYS)
def management_board(inp: StageInput) -> dict:
    """Facts: the management board's files, its plan (size, power band wanted and drawn, pours,
    holes, current, segment and via counts), what was read back from the saved board (size,
    holes, connectors, zones) and `copper`: its power paths measured on the saved board
    (`pcb.management_copper.measure_management`)."""
    from pcb import management_board as mb
    from pcb import management_copper

    up = inp.upstream["pcb.netlist"]
    budget = electrical.power_budget(inp.design, inp.layout)
    path = mb.build_management(inp.design, inp.layout, up.path(up.facts["board_files"]["management_netlist"]),
                               inp.workdir, budget, part_facts=up.facts.get("management_parts"))
    facts = mb.read_management_facts(path)
    facts["files"] = {"board": path.name, "project": path.with_suffix(".kicad_pro").name,
                      "rules": path.with_suffix(board_mod.RULES_SUFFIX).name, "plan": mb.PLAN_FILE}
    facts["plan"] = json.loads((inp.workdir / mb.PLAN_FILE).read_text())
    facts["copper"] = management_copper.measure_management(inp.design, path, mb.rack_current_a(budget))
    facts["design_hash"] = board_mod.design_hash(inp.design)
    return facts


MANAGEMENT_DRC_REPORT = "management_drc.json"
MANAGEMENT_GERBER_ZIP = "management_gerbers.zip"


@stage("pcb.management_drc", title="management board DRC (kicad-cli)", needs=("pcb.management_board",),
       out_subdir="pcb", design_keys=PCB_DESIGN_KEYS)
def management_drc(inp: StageInput) -> dict:
    """Facts: kicad-cli's DRC counts on the management board (as pcb.drc's) and the report's name."""
    up = inp.upstream["pcb.management_board"]
    summary = drc_mod.run_drc(up.path(up.facts["files"]["board"]), inp.workdir / MANAGEMENT_DRC_REPORT)
    summary["report"] = MANAGEMENT_DRC_REPORT
    return summary


@stage("pcb.management_fab", title="management board Gerbers (KiKit), drill, placement, BOM and renders",
       needs=("pcb.management_board",), out_subdir="pcb", design_keys=PCB_DESIGN_KEYS, for_checks=False)
def management_fab(inp: StageInput) -> dict:
    """Facts: the management board's Gerber zip (name, size, contents), the other outputs' names
    and its STEP model (the frame does not place it: the mechanical assembly does not wait for it)."""
    up = inp.upstream["pcb.management_board"]
    preset = catalogue.fab(inp.design["pcb.fab"])["kikit_preset"]
    board_path = up.path(up.facts["files"]["board"])
    facts = fab_mod.export_fab(board_path, inp.workdir, preset, zip_name=MANAGEMENT_GERBER_ZIP)
    facts["kikit_preset"] = preset
    facts["outputs"] = fab_mod.export_outputs(board_path, inp.workdir)
    facts["outputs"]["step"] = fab_mod.export_step(board_path, inp.workdir / MANAGEMENT_STEP_FILE).name
    return facts


STEP_STAGE = "pcb.step"
BOARD_STEP_FILES = {"backplane": "backplane.step", "carrier": "carrier.step"}
BOARD_STAGES = {"backplane": "pcb.board", "carrier": "pcb.carrier_board"}
MANAGEMENT_STEP_FILE = "management.step"


@stage(STEP_STAGE, title="board STEP models (kicad-cli) for the mechanical assembly",
       needs=tuple(BOARD_STAGES.values()), out_subdir="pcb", design_keys=PCB_DESIGN_KEYS)
def board_steps(inp: StageInput) -> dict:
    """Facts: per board, the STEP file's name and its thickness (mm) as kicad-cli modelled it,
    in board coordinates (`pcb.fab.export_step`); `mech.assembly` places them in the rack."""
    out = {}
    for board, stage_name in BOARD_STAGES.items():
        up = inp.upstream[stage_name]
        path = fab_mod.export_step(up.path(up.facts["files"]["board"]), inp.workdir / BOARD_STEP_FILES[board])
        out[board] = {"step": path.name, "board_size_mm": up.facts["board_size_mm"]}
    return {"boards": out}
