"""PNG renders of the assembly (isometric, front, top), headless and deterministic.

The `mech.assembly` stage writes one coarse STL per body kind (printed, board, node, connector,
fan) in rack position (`render/<kind>.stl`); this module reads those meshes (trimesh) and draws
them with a small software renderer written in numpy: no display, no OpenGL, the same bytes on
every run. Axes are the project's: X across, Y depth (front = 0, increasing toward the rear), Z up,
mm.

Method, per view:

1. Camera. A view is an elevation and an azimuth of the eye direction (`View`); the camera basis
   is (right, up, toward-eye). Every vertex is projected orthographically to (u, v) mm on the
   picture plane and a depth in mm along the viewing direction (larger = farther).
2. Fit. One scale (px per mm) and offset put the projected bounding box into the drawing area
   of the image, keeping room for the title (top) and the legend (left).
3. Rasterise with a z-buffer. Triangles are oriented to a positive signed area in pixel
   coordinates; a pixel centre is inside when its three edge functions are >= 0, and its depth is
   the triangle's depth plane evaluated there (exact for an orthographic projection). Rather than
   testing every pixel of every bounding box, each triangle is cut into pixel rows and each row
   into the one run of pixel centres between its edges (depth linear along it), so the work is
   proportional to the pixels actually covered; rows, runs and fragments are numpy arrays
   (np.repeat), never a Python loop per triangle, in batches of a few million fragments. Each
   fragment is a 64-bit key (quantised depth in the high bits, triangle index in the low bits)
   and `np.minimum.at` keeps the smallest key per pixel: the nearest surface wins whatever the
   order of the triangles (ties go to the lower index), which is what the painter's algorithm
   of matplotlib's mplot3d got wrong (far triangles drawn over near ones).
4. Shade. Flat Lambert per triangle, two-sided (|n . l|: STL winding is not relied on), one
   light fixed in the world (`LIGHT_DIR`, above, in front, a little left); colours per body kind
   (`KIND_COLOURS`).
5. Outline. A pixel is darkened when it lies in front of its neighbours by more than
   `EDGE_DEPTH_STEP_MM` (second difference of the depth buffer: silhouettes and steps, drawn on
   the near side only), borders the background, or sits on a crease where neighbouring surfaces'
   normals differ by more than `EDGE_CREASE_DEG` (the render meshes' facets on curved surfaces
   differ by less, so round parts stay smooth).
6. Annotate and write. Pillow draws the title and the legend (kind -> colour) and writes the PNG
   without any time or software chunk, so reruns are byte-identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from PIL.Image import Image

# Chordal tolerance (mm) and angular tolerance (rad) of the render meshes: coarse, a picture needs
# no more, and it keeps the triangle count (and the drawing time) low.
RENDER_LINEAR_TOLERANCE_MM = 0.5
RENDER_ANGULAR_TOLERANCE_RAD = 0.5

# Legend order and colours (RGB 0..1) per body kind.
KIND_COLOURS = {
    "printed": (0.93, 0.55, 0.18),    # PETG orange
    "board": (0.10, 0.45, 0.25),      # PCB green (carriers, backplane)
    "node": (0.22, 0.62, 0.34),       # the Pi with its ports and heatsink
    "connector": (0.15, 0.15, 0.17),  # plugs and sockets
    "fan": (0.30, 0.32, 0.36),        # fans
}


class View(NamedTuple):
    """Direction from the model toward the eye: elevation above the XY plane and azimuth in the XY
    plane counter-clockwise from +X (degrees). Azimuth -90 looks from -Y, i.e. at the front panel;
    elevation 90 looks straight down with +Y (the rear) at the top of the picture."""

    elevation_deg: float
    azimuth_deg: float


# One PNG per view (file stem -> view); all orthographic. The isometric eye is in front (-Y), to
# the left (-X) and above (+Z).
VIEWS = {
    "render_iso": View(elevation_deg=28.0, azimuth_deg=-124.0),
    "render_front": View(elevation_deg=0.0, azimuth_deg=-90.0),
    "render_top": View(elevation_deg=90.0, azimuth_deg=-90.0),
}
IMAGE_PX = (1600, 900)                        # width, height
# Room kept free of the model: title at the top, legend on the left.
MARGIN_PX = {"left": 170, "right": 40, "top": 60, "bottom": 40}
BACKGROUND_RGB = (1.0, 1.0, 1.0)
# Direction toward the light (world, fixed for every view): above, in front, a little left, so the
# top, front and side faces of the iso view get three different shades.
LIGHT_DIR = np.array([-0.3, -0.45, 0.84])
AMBIENT = 0.42                                # shade of a face edge-on to the light
EDGE_DEPTH_STEP_MM = 1.0                      # a pixel this far in front of its neighbours is an edge
EDGE_CREASE_DEG = 40.0                        # normals differing by more than this make a crease
EDGE_SHADE = 0.35                             # edge pixels keep this fraction of their colour
FONT_SIZE_PX = 18

# Z-buffer key: quantised depth in the high bits, triangle index in the low bits.
_INDEX_BITS = 27
_DEPTH_LEVELS = (1 << 36) - 1
_EMPTY_KEY = np.iinfo(np.int64).max
# Fragments rasterised per batch (bounds the memory: ~10 arrays of this many elements).
_FRAGMENTS_PER_BATCH = 4_000_000


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


# ---------------------------------------------------------------------------------------------
# camera and fit


def camera_basis(view: View) -> np.ndarray:
    """Rows right, up, toward-eye (unit vectors, world coordinates) of an orthographic camera."""
    elevation, azimuth = np.radians(view.elevation_deg), np.radians(view.azimuth_deg)
    toward_eye = np.array([np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth),
                           np.sin(elevation)])
    right = np.array([-np.sin(azimuth), np.cos(azimuth), 0.0])   # horizontal, also looking straight down
    up = np.cross(toward_eye, right)
    return np.stack([right, up, toward_eye])


def project(points_mm: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """(..., 3) world mm -> (..., 3) camera (u right mm, v up mm, depth mm, larger = farther)."""
    camera = points_mm @ basis.T
    camera[..., 2] *= -1.0
    return camera


def fit_scale(uv_lo_mm: np.ndarray, uv_hi_mm: np.ndarray, image_px: tuple[int, int],
              margin_px: dict[str, int]) -> tuple[float, np.ndarray]:
    """(px per mm, pixel position of (u, v) = (0, 0)) that centres the box [uv_lo, uv_hi] in the
    image's drawing area; pixel y grows downward."""
    width_px, height_px = image_px
    area_w_px = width_px - margin_px["left"] - margin_px["right"]
    area_h_px = height_px - margin_px["top"] - margin_px["bottom"]
    size_mm = np.maximum(uv_hi_mm - uv_lo_mm, 1e-9)
    px_per_mm = float(min(area_w_px / size_mm[0], area_h_px / size_mm[1]))
    centre_mm = (uv_lo_mm + uv_hi_mm) / 2
    centre_px = np.array([margin_px["left"] + area_w_px / 2, margin_px["top"] + area_h_px / 2])
    origin_px = np.array([centre_px[0] - centre_mm[0] * px_per_mm, centre_px[1] + centre_mm[1] * px_per_mm])
    return px_per_mm, origin_px


def to_pixels(camera_mm: np.ndarray, px_per_mm: float, origin_px: np.ndarray) -> np.ndarray:
    """(..., 3) camera mm -> (..., 3) (x px, y px downward, depth mm)."""
    out = np.empty_like(camera_mm)
    out[..., 0] = origin_px[0] + camera_mm[..., 0] * px_per_mm
    out[..., 1] = origin_px[1] - camera_mm[..., 1] * px_per_mm
    out[..., 2] = camera_mm[..., 2]
    return out


# ---------------------------------------------------------------------------------------------
# z-buffer rasteriser


class _Setup(NamedTuple):
    """Rasterisable triangles: vertices oriented to positive area, the depth plane
    depth = a x + b y + c (x, y px; depth mm) and each triangle's depth range."""

    index: np.ndarray        # (m,) index into the caller's triangles
    x_px: np.ndarray         # (m, 3)
    y_px: np.ndarray         # (m, 3)
    plane: np.ndarray        # (m, 3) a, b, c
    depth_lo_mm: np.ndarray  # (m,)
    depth_hi_mm: np.ndarray  # (m,)


def _setup_triangles(tris_px: np.ndarray) -> _Setup:
    """Drop triangles with no projected area, orient the rest and fit their depth planes."""
    x, y, d = tris_px[:, :, 0], tris_px[:, :, 1], tris_px[:, :, 2]
    e1x, e1y, e1d = x[:, 1] - x[:, 0], y[:, 1] - y[:, 0], d[:, 1] - d[:, 0]
    e2x, e2y, e2d = x[:, 2] - x[:, 0], y[:, 2] - y[:, 0], d[:, 2] - d[:, 0]
    area2_px2 = e1x * e2y - e2x * e1y
    keep = np.abs(area2_px2) > 1e-12
    index = np.flatnonzero(keep)
    x, y, d, area2_px2 = x[keep].copy(), y[keep].copy(), d[keep], area2_px2[keep]
    e1x, e1y, e1d, e2x, e2y, e2d = (v[keep] for v in (e1x, e1y, e1d, e2x, e2y, e2d))
    a = (e1d * e2y - e2d * e1y) / area2_px2
    b = (e1x * e2d - e2x * e1d) / area2_px2
    c = d[:, 0] - a * x[:, 0] - b * y[:, 0]
    flip = area2_px2 < 0                      # swap vertices 1 and 2: positive area
    x[flip, 1], x[flip, 2] = x[flip, 2], x[flip, 1].copy()
    y[flip, 1], y[flip, 2] = y[flip, 2], y[flip, 1].copy()
    return _Setup(index, x, y, np.stack([a, b, c], axis=1), d.min(axis=1), d.max(axis=1))


def _triangle_rows(setup: _Setup, height_px: int) -> tuple[np.ndarray, np.ndarray]:
    """(triangle, pixel row) for every pixel row whose centre line crosses a triangle's y-range."""
    first = np.clip(np.ceil(setup.y_px.min(axis=1) - 0.5), 0, height_px).astype(np.int64)
    last = np.clip(np.floor(setup.y_px.max(axis=1) - 0.5), -1, height_px - 1).astype(np.int64)
    count = np.maximum(last - first + 1, 0)
    tri = np.repeat(np.arange(len(count)), count)
    start = np.cumsum(count) - count
    row = first[tri] + np.arange(len(tri)) - start[tri]
    return tri, row


def _row_spans(setup: _Setup, tri: np.ndarray, row: np.ndarray,
               width_px: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last pixel column whose centre lies inside triangle `tri` on pixel row `row`
    (last < first: empty). Edge (p, q) keeps the side where (q - p) x (c - p) >= 0, a bound on x
    along the row."""
    ax, ay = setup.x_px[tri], setup.y_px[tri]
    bx, by = ax[:, [1, 2, 0]], ay[:, [1, 2, 0]]
    y_c = (row + 0.5)[:, None]
    slope = -(by - ay)                                   # edge function = slope * x + offset
    offset = (bx - ax) * (y_c - ay) + (by - ay) * ax
    with np.errstate(divide="ignore", invalid="ignore"):
        bound_px = -offset / slope
    eps_px = 1e-9
    x_lo = np.where(slope > 0, bound_px, -np.inf).max(axis=1) - eps_px
    x_hi = np.where(slope < 0, bound_px, np.inf).min(axis=1) + eps_px
    x_lo[((slope == 0) & (offset < 0)).any(axis=1)] = np.inf
    first = np.clip(np.ceil(x_lo - 0.5), 0, width_px)          # clip before int: no inf
    last = np.clip(np.floor(x_hi - 0.5), -1, width_px - 1)
    return first.astype(np.int64), last.astype(np.int64)


class _Spans(NamedTuple):
    """Non-empty pixel runs: the runs' first pixel (flat index), length, quantised depth at the
    first pixel and its change per pixel (depth levels), and triangle index (the caller's)."""

    pixel0: np.ndarray
    count: np.ndarray
    level0: np.ndarray
    level_step: np.ndarray
    index: np.ndarray


def _spans(setup: _Setup, image_px: tuple[int, int], depth_range_mm: tuple[float, float]) -> _Spans:
    """Every triangle's pixel runs, one per covered row, with depth as z-buffer levels. The depth at
    both ends of a run is clipped to the triangle's depth range; in between it is linear."""
    width_px, height_px = image_px
    tri, row = _triangle_rows(setup, height_px)
    first, last = _row_spans(setup, tri, row, width_px)
    keep = last >= first
    tri, row, first, last = tri[keep], row[keep], first[keep], last[keep]
    plane, lo_mm, hi_mm = setup.plane[tri], setup.depth_lo_mm[tri], setup.depth_hi_mm[tri]
    row_depth_mm = plane[:, 1] * (row + 0.5) + plane[:, 2]
    depth_first_mm = np.clip(plane[:, 0] * (first + 0.5) + row_depth_mm, lo_mm, hi_mm)
    depth_last_mm = np.clip(plane[:, 0] * (last + 0.5) + row_depth_mm, lo_mm, hi_mm)
    levels_per_mm = _DEPTH_LEVELS / max(depth_range_mm[1] - depth_range_mm[0], 1e-9)
    level0 = (depth_first_mm - depth_range_mm[0]) * levels_per_mm
    count = last - first + 1
    level_step = (depth_last_mm - depth_first_mm) * levels_per_mm / np.maximum(count - 1, 1)
    return _Spans(row * width_px + first, count, level0, level_step, setup.index[tri])


def _splat_spans(zkeys: np.ndarray, spans: _Spans) -> None:
    """Expand runs to fragments, key = (depth level << _INDEX_BITS) | triangle index, and keep the
    smallest key per pixel in `zkeys` (flat, in place)."""
    run = np.repeat(np.arange(len(spans.count)), spans.count)
    step_px = np.arange(len(run)) - np.repeat(np.cumsum(spans.count) - spans.count, spans.count)
    level = np.clip(spans.level0[run] + spans.level_step[run] * step_px, 0, _DEPTH_LEVELS)
    keys = (level.astype(np.int64) << _INDEX_BITS) | spans.index[run]
    np.minimum.at(zkeys, spans.pixel0[run] + step_px, keys)


class Raster(NamedTuple):
    """Per pixel (height, width): the nearest triangle (index into the caller's triangles, -1 for
    background) and its depth mm at the pixel centre (background: the farthest depth drawn)."""

    nearest: np.ndarray
    depth_mm: np.ndarray


def rasterize(tris_px: np.ndarray, image_px: tuple[int, int]) -> Raster:
    """Z-buffer the triangles into an image of image_px (width, height) pixels.

    tris_px: (n, 3, 3) vertices as (x px, y px downward, depth mm, larger = farther); pixel (i, j)
    covers [j, j + 1) x [i, i + 1) and is sampled at its centre. The result does not depend on
    the order of the triangles except for exact depth ties (lower index wins)."""
    width_px, height_px = image_px
    if len(tris_px) >= 1 << _INDEX_BITS:
        raise ValueError(f"too many triangles to render: {len(tris_px)}")
    zkeys = np.full(width_px * height_px, _EMPTY_KEY, dtype=np.int64)
    setup = _setup_triangles(np.asarray(tris_px, dtype=float))
    depth_range_mm = (0.0, 1.0)
    if len(setup.index):
        depth_range_mm = (float(setup.depth_lo_mm.min()), float(setup.depth_hi_mm.max()))
        spans = _spans(setup, image_px, depth_range_mm)
        # batches of whole runs, about _FRAGMENTS_PER_BATCH fragments each
        batch = np.cumsum(spans.count) // _FRAGMENTS_PER_BATCH
        for sel in np.split(np.arange(len(spans.count)), np.flatnonzero(np.diff(batch)) + 1):
            _splat_spans(zkeys, _Spans(*(field[sel] for field in spans)))
    return _decode_keys(zkeys.reshape(height_px, width_px), depth_range_mm)


def _decode_keys(zkeys: np.ndarray, depth_range_mm: tuple[float, float]) -> Raster:
    """Split z-buffer keys back into triangle index and depth mm."""
    empty = zkeys == _EMPTY_KEY
    nearest = np.where(empty, -1, zkeys & ((1 << _INDEX_BITS) - 1))
    lo, hi = depth_range_mm
    unit = np.where(empty, 1.0, (zkeys >> _INDEX_BITS) / _DEPTH_LEVELS)
    return Raster(nearest, lo + unit * (hi - lo))


# ---------------------------------------------------------------------------------------------
# shading and outlines


def unit_normals(tris: np.ndarray) -> np.ndarray:
    """(n, 3) unit normals by the vertex order (zero for degenerate triangles)."""
    n = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    norm = np.linalg.norm(n, axis=1)
    return n / np.where(norm > 0, norm, 1.0)[:, None]


def shade(normals: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """(n, 3) flat two-sided Lambert colours (0..1) of faces with these (world) unit normals."""
    light = LIGHT_DIR / np.linalg.norm(LIGHT_DIR)
    lambert = np.abs(normals @ light)          # two-sided: STL winding is not relied on
    return np.clip(rgb * (AMBIENT + (1 - AMBIENT) * lambert)[:, None], 0.0, 1.0)


def _neighbour_differences(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Second differences along x and y (0 on the image border)."""
    d2x = np.zeros_like(image)
    d2y = np.zeros_like(image)
    d2x[:, 1:-1] = image[:, :-2] + image[:, 2:] - 2 * image[:, 1:-1]
    d2y[1:-1, :] = image[:-2, :] + image[2:, :] - 2 * image[1:-1, :]
    return d2x, d2y


def edge_mask(nearest: np.ndarray, depth_mm: np.ndarray, normals_camera: np.ndarray) -> np.ndarray:
    """Pixels to darken: in front of their neighbours (depth steps, near side), next to the
    background, or on a crease between faces whose normals differ by more than EDGE_CREASE_DEG."""
    covered = nearest >= 0
    d2x, d2y = _neighbour_differences(depth_mm)
    step = (d2x > EDGE_DEPTH_STEP_MM) | (d2y > EDGE_DEPTH_STEP_MM)
    border = np.zeros_like(covered)
    border[:, 1:] |= ~covered[:, :-1]
    border[:, :-1] |= ~covered[:, 1:]
    border[1:, :] |= ~covered[:-1, :]
    border[:-1, :] |= ~covered[1:, :]
    # normals turned toward the eye, so a face and its flipped twin compare equal
    facing = normals_camera * np.where(normals_camera[:, 2:3] < 0, -1.0, 1.0)
    n = np.where(covered[..., None], facing[np.maximum(nearest, 0)], 0.0)
    cos_limit = np.cos(np.radians(EDGE_CREASE_DEG))
    crease = np.zeros_like(covered)
    crease[:, 1:] |= np.einsum("ijk,ijk->ij", n[:, 1:], n[:, :-1]) < cos_limit
    crease[1:, :] |= np.einsum("ijk,ijk->ij", n[1:, :], n[:-1, :]) < cos_limit
    return covered & (step | border | crease)


# ---------------------------------------------------------------------------------------------
# one view


def render_image(meshes: list[tuple[str, np.ndarray]], view: View,
                 image_px: tuple[int, int] = IMAGE_PX,
                 margin_px: dict[str, int] | None = None, outlines: bool = True) -> np.ndarray:
    """(height, width, 3) uint8 picture of the meshes from `view`, without title or legend."""
    every = _all_triangles(meshes)
    margin_px = MARGIN_PX if margin_px is None else margin_px
    basis = camera_basis(view)
    camera_mm = project(every, basis)
    flat = camera_mm.reshape(-1, 3)
    px_per_mm, origin_px = fit_scale(flat[:, :2].min(axis=0), flat[:, :2].max(axis=0), image_px, margin_px)
    nearest, depth_mm = rasterize(to_pixels(camera_mm, px_per_mm, origin_px), image_px)
    normals = unit_normals(every)
    normals_camera = normals @ basis.T
    colours = np.concatenate([shade(normals[sl], np.asarray(KIND_COLOURS[kind]))
                              for kind, sl in _kind_slices(meshes)] + [np.asarray([BACKGROUND_RGB])])
    palette = np.round(colours * 255).astype(np.uint8)         # last entry: the background
    pixels = palette[np.where(nearest >= 0, nearest, len(every))]
    if outlines:
        edges = edge_mask(nearest, depth_mm, normals_camera)
        pixels[edges] = np.round(pixels[edges] * EDGE_SHADE).astype(np.uint8)
    return pixels


def _all_triangles(meshes: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """All meshes' triangles (n, 3, 3) mm in list order; ValueError if there are none."""
    unknown = [kind for kind, _ in meshes if kind not in KIND_COLOURS]
    if unknown:
        raise ValueError(f"no colour for body kind(s): {unknown}")
    every = np.concatenate([np.asarray(t, dtype=float).reshape(-1, 3, 3) for _, t in meshes]) if meshes \
        else np.zeros((0, 3, 3))
    if not len(every):
        raise ValueError("nothing to render: no meshes")
    return every


def _kind_slices(meshes: list[tuple[str, np.ndarray]]) -> list[tuple[str, slice]]:
    """(kind, slice of the concatenated triangles) per mesh."""
    out, start = [], 0
    for kind, tris in meshes:
        out.append((kind, slice(start, start + len(tris))))
        start += len(tris)
    return out


# ---------------------------------------------------------------------------------------------
# annotation and PNG


def annotate(pixels: np.ndarray, kinds: list[str], title: str) -> Image:
    """Pillow image of `pixels` with the title (top left) and a legend kind -> colour (bottom left)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8))    # (h, w, 3) uint8: RGB
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=FONT_SIZE_PX)
    if title:
        draw.text((14, 12), title, fill=(0, 0, 0), font=font)
    line_px = FONT_SIZE_PX + 8
    top_px = image.height - 16 - line_px * len(kinds)
    for i, kind in enumerate(kinds):
        y_px = top_px + i * line_px
        swatch = tuple(int(round(c * 255)) for c in KIND_COLOURS[kind])
        draw.rectangle((14, y_px, 14 + FONT_SIZE_PX, y_px + FONT_SIZE_PX), fill=swatch, outline=(0, 0, 0))
        draw.text((14 + FONT_SIZE_PX + 8, y_px), kind, fill=(0, 0, 0), font=font)
    return image


def write_png(image: Image, path: Path) -> None:
    """Write a Pillow image as PNG with no metadata chunks (no time, no software): same bytes on rerun."""
    image.save(path, format="PNG", optimize=False, compress_level=6)


def render_views(meshes: list[tuple[str, np.ndarray]], out_dir: Path, title: str = "") -> dict[str, str]:
    """Write one PNG per entry of VIEWS into out_dir; return {view: file name}."""
    _all_triangles(meshes)                       # fail before writing anything
    kinds = list(dict.fromkeys(kind for kind, _ in meshes))
    written = {}
    for stem, view in VIEWS.items():
        pixels = render_image(meshes, view)
        label = f"{title}: {stem.removeprefix('render_')}" if title else ""
        path = Path(out_dir) / f"{stem}.png"
        write_png(annotate(pixels, kinds, label), path)
        written[stem] = path.name
    return written
