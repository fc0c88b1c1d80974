"""PNG renders of the assembly (isometric, front, top), headless and deterministic.

The `mech.assembly` stage writes one coarse STL per body kind (printed, node, board, connector,
fan) in rack position (`render/<kind>.stl`); this module reads those meshes (trimesh) and draws
them with matplotlib's Agg backend as flat-shaded triangles (mplot3d Poly3DCollection): no display,
no OpenGL, the same picture on every run. Axes are the project's: X across, Y depth (front = 0),
Z up, mm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Chordal tolerance (mm) and angular tolerance (rad) of the render meshes: coarse, a picture needs
# no more, and it keeps the triangle count (and the drawing time) low.
RENDER_LINEAR_TOLERANCE_MM = 0.5
RENDER_ANGULAR_TOLERANCE_RAD = 0.5

# Drawing order and colours (RGB 0..1) per body kind.
KIND_COLOURS = {
    "printed": (0.93, 0.55, 0.18),    # PETG orange
    "board": (0.10, 0.45, 0.25),      # PCB green (carriers, backplane)
    "node": (0.22, 0.62, 0.34),       # the Pi with its ports and heatsink
    "connector": (0.15, 0.15, 0.17),  # plugs and sockets
    "fan": (0.30, 0.32, 0.36),        # fans
}
# (file stem, elevation deg, azimuth deg, orthographic) per view; matplotlib's azimuth -90 looks
# from -Y, i.e. at the front panel.
VIEWS = {
    "render_iso": (24.0, -58.0, False),
    "render_front": (0.0, -90.0, True),
    "render_top": (90.0, -90.0, True),
}
LIGHT_DIR = np.array([-0.35, -0.6, 0.72])
IMAGE_PX = (1600, 900)
DPI = 100


def load_meshes(folder: Path, meshes: dict[str, str]) -> list[tuple[str, np.ndarray]]:
    """[(kind, triangles (n, 3, 3) mm)] from the `mech.assembly` facts' `render_meshes`."""
    import trimesh

    out = []
    for kind in KIND_COLOURS:
        if kind not in meshes:
            continue
        mesh = trimesh.load_mesh(folder / meshes[kind], file_type="stl", process=False)
        out.append((kind, np.asarray(mesh.triangles, dtype=float)))
    return out


def _shade(tris: np.ndarray, rgb: tuple[float, float, float]) -> np.ndarray:
    n = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    norm = np.linalg.norm(n, axis=1)
    n = n / np.where(norm > 0, norm, 1.0)[:, None]
    light = LIGHT_DIR / np.linalg.norm(LIGHT_DIR)
    lam = np.abs(n @ light)                 # two-sided: STL winding is not relied on
    k = (0.45 + 0.55 * lam)[:, None]
    rgba = np.empty((len(tris), 4))
    rgba[:, :3] = np.clip(np.asarray(rgb)[None, :] * k, 0, 1)
    rgba[:, 3] = 1.0
    return rgba


def render_views(meshes: list[tuple[str, np.ndarray]], out_dir: Path, title: str = "") -> dict[str, str]:
    """Write one PNG per entry of VIEWS into out_dir; return {view: file name}."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    every = np.concatenate([t for _, t in meshes]) if meshes else np.zeros((0, 3, 3))
    if not len(every):
        raise ValueError("nothing to render: no meshes")
    lo, hi = every.reshape(-1, 3).min(axis=0), every.reshape(-1, 3).max(axis=0)
    written = {}
    for stem, (elev, azim, ortho) in VIEWS.items():
        fig = plt.figure(figsize=(IMAGE_PX[0] / DPI, IMAGE_PX[1] / DPI), dpi=DPI)
        ax = fig.add_axes((0, 0, 1, 1), projection="3d", proj_type="ortho" if ortho else "persp")
        # one collection: matplotlib depth-sorts the polygons inside a collection, but whole
        # collections only by their mean depth, which would draw the fans over the panel
        colours = np.concatenate([_shade(t, KIND_COLOURS[k]) for k, t in meshes])
        ax.add_collection3d(Poly3DCollection(every, facecolors=colours, edgecolors="none", linewidths=0))
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_zlim(lo[2], hi[2])
        ax.set_box_aspect(tuple(hi - lo), zoom=1.35 if stem == "render_iso" else 1.6)
        ax.view_init(elev=elev, azim=azim)
        ax.set_axis_off()
        handles = [Patch(color=KIND_COLOURS[k], label=k) for k, _ in meshes]
        fig.legend(handles=handles, loc="lower left", fontsize=10, frameon=False)
        if title:
            fig.text(0.01, 0.97, f"{title}: {stem.removeprefix('render_')}", fontsize=12, va="top")
        path = out_dir / f"{stem}.png"
        fig.savefig(path, dpi=DPI, metadata={"Software": None})
        plt.close(fig)
        written[stem] = path.name
    return written
