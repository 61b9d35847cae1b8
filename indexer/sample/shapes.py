"""Product silhouettes in unit coordinates, and the pose that places one on a canvas.

Every silhouette is a list of polygons on the unit square (y down), each either added
to or cut from the object's mask, drawn in order. Every silhouette covers the point
(0.5, 0.5) with a margin in the neutral pose; a random pose is kept only when it still
does (images._place checks), so the centre pixel of a picture is the object's colour.
`details` are open polylines (seams, pockets, soles) drawn in a darker shade.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

Point = tuple[float, float]
Polygon = list[Point]


@dataclass(frozen=True, slots=True)
class Silhouette:
    parts: list[tuple[Polygon, bool]]  # (polygon, True to add / False to cut)
    details: list[Polygon]  # open polylines


def ellipse(cx: float, cy: float, rx: float, ry: float, start: float = 0, end: float = 360) -> Polygon:
    """Points along an ellipse arc (degrees, clockwise from +x as in screen coordinates)."""
    steps = max(8, int(abs(end - start) / 7.5))
    return [
        (cx + rx * math.cos(math.radians(start + (end - start) * i / steps)),
         cy + ry * math.sin(math.radians(start + (end - start) * i / steps)))
        for i in range(steps + 1)
    ]  # fmt: skip


def rounded_rect(x0: float, y0: float, x1: float, y1: float, r: float) -> Polygon:
    return (
        ellipse(x1 - r, y0 + r, r, r, 270, 360)
        + ellipse(x1 - r, y1 - r, r, r, 0, 90)
        + ellipse(x0 + r, y1 - r, r, r, 90, 180)
        + ellipse(x0 + r, y0 + r, r, r, 180, 270)
    )


def closed(points: Polygon) -> Polygon:
    return [*points, points[0]]


def _torso() -> Silhouette:
    body = [(0.40, 0.14), (0.60, 0.14), (0.78, 0.21), (0.95, 0.46), (0.84, 0.53), (0.74, 0.41),
            (0.74, 0.89), (0.26, 0.89), (0.26, 0.41), (0.16, 0.53), (0.05, 0.46), (0.22, 0.21)]  # fmt: skip
    neck = ellipse(0.5, 0.14, 0.09, 0.07)
    return Silhouette(
        [(body, True), (neck, False)],
        [[(0.26, 0.82), (0.74, 0.82)], closed(rounded_rect(0.58, 0.28, 0.68, 0.38, 0.02))],
    )


def _legs() -> Silhouette:
    body = [(0.28, 0.07), (0.72, 0.07), (0.79, 0.95), (0.56, 0.95), (0.50, 0.64), (0.44, 0.95),
            (0.21, 0.95)]  # fmt: skip
    return Silhouette([(body, True)], [[(0.28, 0.14), (0.72, 0.14)], [(0.62, 0.14), (0.66, 0.30)]])


def _shorts() -> Silhouette:
    body = [(0.22, 0.16), (0.78, 0.16), (0.85, 0.80), (0.56, 0.82), (0.50, 0.64), (0.44, 0.82),
            (0.15, 0.80)]  # fmt: skip
    return Silhouette([(body, True)], [[(0.22, 0.24), (0.78, 0.24)]])


def _shoe() -> Silhouette:
    body = [(0.05, 0.76), (0.05, 0.40), (0.12, 0.26), (0.42, 0.26), (0.50, 0.38), (0.72, 0.44),
            (0.90, 0.52), (0.96, 0.64), (0.96, 0.76)]  # fmt: skip
    return Silhouette([(body, True)], [[(0.05, 0.69), (0.96, 0.69)], [(0.26, 0.30), (0.38, 0.44)]])


def _boot() -> Silhouette:
    body = [(0.12, 0.86), (0.14, 0.10), (0.62, 0.10), (0.63, 0.52), (0.84, 0.60), (0.94, 0.72),
            (0.94, 0.86)]  # fmt: skip
    return Silhouette([(body, True)], [[(0.12, 0.79), (0.94, 0.79)], [(0.14, 0.18), (0.62, 0.18)]])


def _bag() -> Silhouette:
    handle_out, handle_in = ellipse(0.5, 0.24, 0.15, 0.15), ellipse(0.5, 0.24, 0.10, 0.10)
    body = rounded_rect(0.20, 0.22, 0.80, 0.93, 0.08)
    pocket = rounded_rect(0.30, 0.66, 0.70, 0.86, 0.04)
    return Silhouette([(handle_out, True), (handle_in, False), (body, True)], [closed(pocket)])


def _tote() -> Silhouette:
    handle_out, handle_in = ellipse(0.5, 0.36, 0.22, 0.22), ellipse(0.5, 0.36, 0.17, 0.17)
    body = [(0.16, 0.34), (0.84, 0.34), (0.78, 0.94), (0.22, 0.94)]
    return Silhouette([(handle_out, True), (handle_in, False), (body, True)], [[(0.18, 0.42), (0.82, 0.42)]])


def _cap() -> Silhouette:
    dome = ellipse(0.42, 0.74, 0.38, 0.54, 180, 360)
    brim = ellipse(0.74, 0.74, 0.22, 0.08)
    return Silhouette([(dome, True), (brim, True)], [[(0.32, 0.26), (0.32, 0.74)]])


def _beanie() -> Silhouette:
    dome = ellipse(0.5, 0.64, 0.37, 0.46, 180, 360)
    cuff = [(0.11, 0.60), (0.89, 0.60), (0.89, 0.82), (0.11, 0.82)]
    pompom = ellipse(0.5, 0.16, 0.08, 0.08)
    return Silhouette([(dome, True), (cuff, True), (pompom, True)], [[(0.11, 0.64), (0.89, 0.64)]])


def _scarf() -> Silhouette:
    band = rounded_rect(0.08, 0.28, 0.92, 0.60, 0.06)
    tail = [(0.52, 0.50), (0.76, 0.50), (0.80, 0.94), (0.58, 0.94)]
    fringe = [[(0.60 + 0.04 * i, 0.94), (0.60 + 0.04 * i, 0.98)] for i in range(5)]
    return Silhouette([(band, True), (tail, True)], [[(0.08, 0.35), (0.92, 0.35)], *fringe])


def _bottle() -> Silhouette:
    body = rounded_rect(0.24, 0.24, 0.76, 0.96, 0.10)
    neck = [(0.38, 0.07), (0.62, 0.07), (0.62, 0.26), (0.38, 0.26)]
    return Silhouette([(body, True), (neck, True)], [[(0.38, 0.15), (0.62, 0.15)], [(0.24, 0.38), (0.76, 0.38)]])


def _mug() -> Silhouette:
    handle_out, handle_in = ellipse(0.70, 0.55, 0.20, 0.22), ellipse(0.70, 0.55, 0.12, 0.14)
    body = rounded_rect(0.14, 0.20, 0.72, 0.90, 0.05)
    return Silhouette([(handle_out, True), (handle_in, False), (body, True)], [[(0.14, 0.30), (0.72, 0.30)]])


SILHOUETTES: dict[str, Callable[[], Silhouette]] = {
    "torso": _torso, "legs": _legs, "shorts": _shorts, "shoe": _shoe, "boot": _boot,
    "bag": _bag, "tote": _tote, "cap": _cap, "beanie": _beanie, "scarf": _scarf,
    "bottle": _bottle, "mug": _mug,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Pose:
    """How a silhouette sits on the canvas: scaled, stretched, turned and shifted about the centre.

    Poses vary enough that two products of one type and colour are told apart by a
    perceptual hash, while a near-duplicate (same pose) stays closest to its original.
    Whether a pose still covers the centre pixel is checked by the caller on the mask.
    """

    scale: float
    stretch: float  # width / height factor, applied before turning
    angle: float  # degrees
    dx: float
    dy: float
    mirror: bool

    @classmethod
    def draw(cls, rng: random.Random) -> Pose:
        return cls(
            scale=rng.uniform(0.80, 1.0),
            stretch=rng.uniform(0.85, 1.15),
            angle=rng.uniform(-15.0, 15.0),
            dx=rng.uniform(-0.08, 0.08),
            dy=rng.uniform(-0.08, 0.08),
            mirror=rng.random() < 0.5,
        )

    @classmethod
    def neutral(cls) -> Pose:
        """The pose every silhouette is designed for: it covers the centre by construction."""
        return cls(scale=0.9, stretch=1.0, angle=0.0, dx=0.0, dy=0.0, mirror=False)

    def fitted(self, silhouette: Silhouette, margin: float = 0.04) -> Pose:
        """This pose, scaled down where needed so the whole silhouette keeps `margin` from the edges.

        An object cut by the frame has no outline there, and a white object on white
        would then leak into its background for anyone cutting the subject out.
        """
        scale = self.scale
        for polygon in [p for p, _ in silhouette.parts] + silhouette.details:
            for ex, ey in self._turned(polygon):
                for extent, shift in ((ex, self.dx), (ey, self.dy)):
                    room = 0.5 - margin - (shift if extent > 0 else -shift)
                    if abs(extent) > 1e-9:
                        scale = min(scale, room / abs(extent))
        return Pose(scale, self.stretch, self.angle, self.dx, self.dy, self.mirror)

    def place(self, points: Polygon, size: int) -> list[tuple[float, float]]:
        """Unit-square points -> canvas pixels."""
        return [
            ((ex * self.scale + 0.5 + self.dx) * size, (ey * self.scale + 0.5 + self.dy) * size)
            for ex, ey in self._turned(points)
        ]

    def _turned(self, points: Polygon) -> Polygon:
        """Points about the centre, mirrored, stretched and turned, not yet scaled or shifted."""
        cos, sin = math.cos(math.radians(self.angle)), math.sin(math.radians(self.angle))
        turned = []
        for x, y in points:
            ux = ((1.0 - x if self.mirror else x) - 0.5) * self.stretch
            uy = (y - 0.5) / self.stretch
            turned.append((ux * cos - uy * sin, ux * sin + uy * cos))
        return turned
