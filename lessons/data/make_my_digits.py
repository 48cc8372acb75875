"""Make the "photos" of handwritten digits that lesson 05 classifies (section 7).

    python lessons/data/make_my_digits.py

writes ``my_digits/<digit>/<digit>_<n>.png`` next to this script: two pictures of each digit
0-9, drawn with a pen stroke of random thickness, slant and position in dark ink on light grey,
slightly uneven "paper" (96×96 pixels, 8-bit grey), as a phone photo of a digit on paper looks
after cropping. They are not MNIST images: white background, thicker or thinner strokes, not
centred by mass. That difference is what the lesson is about. ``my_digits/index.txt`` lists the
files, so a notebook on Colab can fetch them from the course's GitHub repository.

Students add their own photos the same way: one folder per digit, any image format.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
SIZE = 96


def _loop(cx: float, cy: float, rx: float, ry: float, start: float = 0.0, end: float = 2 * math.pi,
          n: int = 28) -> list[tuple[float, float]]:
    """Points of an ellipse arc (angles in radians, 0 = right, clockwise on screen)."""
    return [(cx + rx * math.cos(start + (end - start) * i / n), cy + ry * math.sin(start + (end - start) * i / n))
            for i in range(n + 1)]


# each digit: strokes in a unit square (x right, y down), as a pen would draw them
STROKES = {
    0: [_loop(0.5, 0.5, 0.24, 0.34)],
    1: [[(0.38, 0.28), (0.52, 0.15), (0.52, 0.86)]],
    2: [[*_loop(0.5, 0.33, 0.2, 0.18, math.pi * 1.05, math.pi * 2.2, 14), (0.28, 0.85), (0.76, 0.85)]],
    3: [_loop(0.49, 0.32, 0.19, 0.16, math.pi * 1.15, math.pi * 2.5, 14),
        _loop(0.49, 0.66, 0.21, 0.19, math.pi * 1.5, math.pi * 2.85, 16)],
    4: [[(0.62, 0.86), (0.62, 0.15), (0.24, 0.62), (0.78, 0.62)]],
    5: [[(0.7, 0.16), (0.36, 0.16), (0.33, 0.45), *_loop(0.49, 0.64, 0.21, 0.21, math.pi * 1.3, math.pi * 2.75, 16)]],
    6: [[(0.64, 0.15), (0.46, 0.26), (0.35, 0.45), *_loop(0.5, 0.67, 0.18, 0.18, math.pi, math.pi * 3.05, 22)]],
    7: [[(0.26, 0.17), (0.74, 0.17), (0.46, 0.86)]],
    8: [_loop(0.5, 0.32, 0.16, 0.16), _loop(0.5, 0.67, 0.2, 0.19)],
    9: [_loop(0.5, 0.33, 0.18, 0.17), [(0.68, 0.34), (0.62, 0.86)]],
}


def draw(digit: int, rng: np.random.Generator) -> Image.Image:
    """One picture of ``digit``: random pen width, slant, scale and shift, grey paper and noise."""
    slant, scale = rng.uniform(-0.15, 0.15), rng.uniform(0.85, 1.05)
    dx, dy = rng.uniform(-0.06, 0.06, size=2)
    width = int(rng.integers(5, 10))
    paper = Image.new("L", (SIZE, SIZE), int(rng.integers(205, 235)))
    pen = ImageDraw.Draw(paper)
    ink = int(rng.integers(25, 70))
    for stroke in STROKES[digit]:
        points = []
        for x, y in stroke:
            x, y = 0.5 + (x - 0.5) * scale + slant * (0.5 - y) + dx, 0.5 + (y - 0.5) * scale + dy
            points.append((x * SIZE, y * SIZE))
        pen.line(points, fill=ink, width=width, joint="curve")
        for x, y in (points[0], points[-1]):  # round pen ends
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=ink)
    noisy = np.asarray(paper.filter(ImageFilter.GaussianBlur(0.8)), dtype=float)
    noisy += rng.normal(0, 6, size=noisy.shape) + np.linspace(-10, 10, SIZE)[None, :]  # grain, light
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def main(seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    folder = HERE / "my_digits"
    names = []
    for digit in range(10):
        (folder / str(digit)).mkdir(parents=True, exist_ok=True)
        for n in range(2):
            name = f"{digit}/{digit}_{n}.png"
            draw(digit, rng).save(folder / name, optimize=True)
            names.append(name)
    (folder / "index.txt").write_text("".join(f"{name}\n" for name in names))
    print(f"wrote {len(names)} pictures into {folder.name}/")


if __name__ == "__main__":
    main()
