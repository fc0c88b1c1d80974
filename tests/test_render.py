"""mech.render: the z-buffer renderer draws the nearest surface, covers the right pixels, writes the
same bytes on every run; and the stage writes three non-trivial PNGs."""

from __future__ import annotations

import numpy as np
import pytest

from mechanical import render

SMALL_PX = (320, 200)
NO_MARGIN = {"left": 10, "right": 10, "top": 10, "bottom": 10}


def _square_xz(x0_mm: float, x1_mm: float, z0_mm: float, z1_mm: float, y_mm: float) -> np.ndarray:
    """Two triangles: an upright rectangle facing the front (-Y) at depth y_mm."""
    a, b, c, d = (x0_mm, y_mm, z0_mm), (x1_mm, y_mm, z0_mm), (x1_mm, y_mm, z1_mm), (x0_mm, y_mm, z1_mm)
    return np.array([[a, b, c], [a, c, d]], dtype=float)


def _slanted_triangle() -> np.ndarray:
    """A big triangle leaning back: depth Y = Z, from the front edge (Y = Z = 0) up to Y = Z = 100.
    Its mean depth (33 mm) is nearer than the small square's below (80 mm), but at the square's
    pixels the triangle is ~90 mm deep: a painter's sort by mean depth draws it over the square."""
    return np.array([[(0, 0, 0), (100, 0, 0), (50, 100, 100)]], dtype=float)


def _shaded_uint8(normal, kind: str) -> np.ndarray:
    return np.round(render.shade(np.array([normal], dtype=float), np.asarray(render.KIND_COLOURS[kind]))[0]
                    * 255).astype(np.uint8)


def _count_colour(pixels: np.ndarray, rgb: np.ndarray) -> int:
    return int(np.all(pixels == rgb, axis=2).sum())


def _brute_force_nearest(tris_px: np.ndarray, image_px: tuple[int, int]) -> np.ndarray:
    """Reference: every pixel centre against every triangle (barycentric), smallest depth wins."""
    w, h = image_px
    xc, yc = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    best_depth = np.full((h, w), np.inf)
    nearest = np.full((h, w), -1)
    for i, t in enumerate(tris_px):
        (x0, y0, d0), (x1, y1, d1), (x2, y2, d2) = t
        den = (y1 - y2) * (x0 - x2) + (x2 - x1) * (y0 - y2)
        if den == 0:                                   # no area: covers no pixel centre
            continue
        l0 = ((y1 - y2) * (xc - x2) + (x2 - x1) * (yc - y2)) / den
        l1 = ((y2 - y0) * (xc - x2) + (x0 - x2) * (yc - y2)) / den
        l2 = 1 - l0 - l1
        depth = l0 * d0 + l1 * d1 + l2 * d2
        win = (l0 >= 0) & (l1 >= 0) & (l2 >= 0) & (depth < best_depth)
        best_depth[win] = depth[win]
        nearest[win] = i
    return nearest


def test_nearer_surface_wins_whatever_the_order_painter_sort_would_fail():
    """The small square in front of the slanted triangle stays visible, in every input order; the
    old painter's algorithm (sort by mean depth) drew the triangle over it."""
    front = render.VIEWS["render_front"]
    square = _square_xz(40, 60, 82, 92, y_mm=80)
    slanted = _slanted_triangle()
    square_rgb = _shaded_uint8((0, -1, 0), "fan")
    orders = [
        [("printed", slanted), ("fan", square)],
        [("fan", square), ("printed", slanted)],
        [("fan", square[::-1]), ("printed", slanted)],
    ]
    counts = []
    for meshes in orders:
        pixels = render.render_image(meshes, front, SMALL_PX, NO_MARGIN, outlines=False)
        counts.append(_count_colour(pixels, square_rgb))
    # all of the 20 x 10 mm square, at 1.8 px/mm (the 100 mm high scene in 180 px): 36 x 18 px
    assert counts[0] == pytest.approx(36 * 18, rel=0.05)
    assert counts == [counts[0]] * len(counts)


def test_far_square_is_hidden_behind_near_square():
    """Two parallel squares overlapping on screen: the overlap shows only the nearer one (front view
    looks from -Y, top view from +Z)."""
    near = _square_xz(0, 60, 0, 60, y_mm=10)
    far = _square_xz(30, 90, 30, 90, y_mm=50)
    near_rgb, far_rgb = _shaded_uint8((0, -1, 0), "fan"), _shaded_uint8((0, -1, 0), "printed")
    for meshes in ([("printed", far), ("fan", near)], [("fan", near), ("printed", far)]):
        pixels = render.render_image(meshes, render.VIEWS["render_front"], SMALL_PX, NO_MARGIN,
                                     outlines=False)
        near_px, far_px = _count_colour(pixels, near_rgb), _count_colour(pixels, far_rgb)
        # far square: 3/4 of it visible, near square: all of it
        assert near_px == pytest.approx(far_px * 4 / 3, rel=0.05)

    flat_low = near[:, :, [0, 2, 1]]             # the same squares lying flat: Z = 10 and Z = 50
    flat_high = far[:, :, [0, 2, 1]]
    top_pixels = render.render_image([("fan", flat_low), ("printed", flat_high)], render.VIEWS["render_top"],
                                     SMALL_PX, NO_MARGIN, outlines=False)
    high_rgb, low_rgb = _shaded_uint8((0, 0, 1), "printed"), _shaded_uint8((0, 0, 1), "fan")
    high_px, low_px = _count_colour(top_pixels, high_rgb), _count_colour(top_pixels, low_rgb)
    assert high_px == pytest.approx(low_px * 4 / 3, rel=0.05)


def test_rasterizer_matches_brute_force_and_ignores_order():
    rng = np.random.default_rng(7)
    image_px = (64, 48)
    tris = np.concatenate([rng.uniform(-8, 72, (40, 3, 1)), rng.uniform(-8, 56, (40, 3, 1)),
                           rng.uniform(0, 100, (40, 3, 1))], axis=2)
    special = np.array([
        [[5, 5, 1], [30, 20, 2], [55, 35, 3]],          # no area (collinear): draws nothing
        [[-50, -40, 0], [-10, -30, 0], [-20, -5, 0]],   # off the image
        [[3.2, 10.25, 0.5], [60.7, 10.25, 0.5], [30.1, 40.6, 0.5]],   # horizontal edge, nearest
    ])
    tris = np.concatenate([tris, special])
    nearest = render.rasterize(tris, image_px).nearest
    assert np.array_equal(nearest, _brute_force_nearest(tris, image_px))
    perm = rng.permutation(len(tris))
    shuffled = render.rasterize(tris[perm], image_px).nearest
    assert np.array_equal(np.where(shuffled >= 0, perm[np.maximum(shuffled, 0)], -1), nearest)


def test_triangle_coverage_is_its_area_and_shared_edges_leave_no_gaps():
    tri = np.array([[[20.3, 15.2, 1.0], [410.7, 60.9, 2.0], [150.1, 280.4, 3.0]]])
    covered = int((render.rasterize(tri, (500, 300)).nearest == 0).sum())
    (x0, y0, _), (x1, y1, _), (x2, y2, _) = tri[0]
    area_px2 = abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)) / 2
    assert covered == pytest.approx(area_px2, rel=0.01)

    # a rectangle cut along its diagonal: every pixel centre inside it is covered, no other
    x_lo, y_lo, x_hi, y_hi = 10.3, 20.7, 300.6, 200.2
    rect = np.array([[[x_lo, y_lo, 5], [x_hi, y_lo, 5], [x_hi, y_hi, 5]],
                     [[x_lo, y_lo, 5], [x_hi, y_hi, 5], [x_lo, y_hi, 5]]])
    hit = render.rasterize(rect, (400, 300)).nearest >= 0
    centres_x = np.arange(400) + 0.5
    centres_y = np.arange(300) + 0.5
    inside_y = (centres_y >= y_lo) & (centres_y <= y_hi)
    inside_x = (centres_x >= x_lo) & (centres_x <= x_hi)
    expected = inside_y[:, None] & inside_x[None, :]
    assert np.array_equal(hit, expected)


def test_rasterizer_depth_is_the_plane_at_pixel_centres():
    tri = np.array([[[0, 0, 10.0], [100, 0, 30.0], [0, 100, 50.0]]])     # depth = 10 + 0.2 x + 0.4 y
    raster = render.rasterize(tri, (100, 100))
    assert raster.depth_mm[10, 20] == pytest.approx(10 + 0.2 * 20.5 + 0.4 * 10.5, abs=1e-6)
    assert raster.nearest[90, 90] == -1


def test_camera_axes_of_the_views():
    front = render.camera_basis(render.VIEWS["render_front"])
    assert np.allclose(front, [[1, 0, 0], [0, 0, 1], [0, -1, 0]], atol=1e-12)   # right X, up Z, eye at -Y
    top = render.camera_basis(render.VIEWS["render_top"])
    assert np.allclose(top, [[1, 0, 0], [0, 1, 0], [0, 0, 1]], atol=1e-12)      # rear at the top, eye at +Z
    right, up, toward_eye = render.camera_basis(render.VIEWS["render_iso"])
    assert toward_eye[0] < 0 and toward_eye[1] < 0 and toward_eye[2] > 0        # front, left, above
    assert right[0] > 0 and up[2] > 0


def test_outlines_darken_the_silhouette_only():
    square = _square_xz(0, 100, 0, 60, y_mm=0)
    plain = render.render_image([("printed", square)], render.VIEWS["render_front"], SMALL_PX, NO_MARGIN,
                                outlines=False)
    lined = render.render_image([("printed", square)], render.VIEWS["render_front"], SMALL_PX, NO_MARGIN)
    changed = np.any(plain != lined, axis=2)
    rows, cols = np.nonzero(np.any(plain < 255, axis=2))
    assert changed.any()
    assert not changed[rows.min() + 2:rows.max() - 1, cols.min() + 2:cols.max() - 1].any()
    assert changed[rows.min(), cols.min()] and changed[rows.max(), cols.max()]


def test_render_views_writes_identical_bytes_without_metadata(tmp_path):
    from PIL import Image

    meshes = [("printed", _slanted_triangle()), ("fan", _square_xz(40, 60, 82, 92, y_mm=80))]
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    written = render.render_views(meshes, first, title="test")
    assert render.render_views(meshes, second, title="test") == written
    assert set(written) == set(render.VIEWS)
    for name in written.values():
        data = (first / name).read_bytes()
        assert data == (second / name).read_bytes()
        assert b"tIME" not in data and b"tEXt" not in data and b"iTXt" not in data
        with Image.open(first / name) as img:
            assert img.size == render.IMAGE_PX and img.size[0] >= 1000 and img.size[1] >= 600


def test_nothing_to_render_is_an_error(tmp_path):
    with pytest.raises(ValueError):
        render.render_views([], tmp_path)
    with pytest.raises(ValueError):
        render.render_views([("printed", np.zeros((0, 3, 3)))], tmp_path)
    assert not list(tmp_path.iterdir())


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
