"""Emotion colours: a colour-blind-safe Okabe–Ito palette (default) and the classic one (Qt-free)."""

from __future__ import annotations

RGB = tuple[int, int, int]

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO: dict[str, RGB] = {
    "angry": (213, 94, 0),  # vermillion
    "disgust": (0, 158, 115),  # bluish green
    "fear": (204, 121, 167),  # reddish purple
    "happy": (240, 228, 66),  # yellow
    "sad": (0, 114, 178),  # blue
    "surprise": (230, 159, 0),  # orange
    "neutral": (153, 153, 153),  # grey
    "contempt": (86, 180, 233),  # sky blue
}

CLASSIC: dict[str, RGB] = {
    "angry": (220, 50, 47),
    "disgust": (133, 153, 0),
    "fear": (108, 113, 196),
    "happy": (255, 196, 0),
    "sad": (38, 139, 210),
    "surprise": (211, 54, 130),
    "neutral": (160, 160, 160),
    "contempt": (203, 75, 22),
}

PALETTES: dict[str, dict[str, RGB]] = {"okabe-ito": OKABE_ITO, "classic": CLASSIC}
PALETTE_TITLES = {"okabe-ito": "Okabe–Ito (colour-blind safe)", "classic": "Classic"}
DEFAULT_PALETTE = "okabe-ito"


def emotion_color(label: str, palette: str = DEFAULT_PALETTE) -> RGB:
    """RGB of an emotion in a palette; unknown labels (or palettes) get a stable fallback."""
    colors = PALETTES.get(palette, OKABE_ITO)
    if label in colors:
        return colors[label]
    seed = sum(map(ord, label))
    return (80 + seed * 37 % 160, 80 + seed * 71 % 160, 80 + seed * 113 % 160)


def hex_color(label: str, palette: str = DEFAULT_PALETTE) -> str:
    """`#rrggbb` for HTML and matplotlib."""
    return "#{:02x}{:02x}{:02x}".format(*emotion_color(label, palette))


# For greyscale print: each emotion also has a hatch (bars) and a marker (lines), so no plot relies on colour alone.
HATCHES: dict[str, str] = {
    "angry": "///",
    "disgust": "xx",
    "fear": "\\\\\\",
    "happy": "",
    "sad": "...",
    "surprise": "++",
    "neutral": "--",
    "contempt": "oo",
}
MARKERS: dict[str, str] = {
    "angry": "^",
    "disgust": "X",
    "fear": "v",
    "happy": "o",
    "sad": "s",
    "surprise": "*",
    "neutral": "D",
    "contempt": "P",
}
_SPARE_HATCHES = ("//", "||", "**", "O.", "x.", "-\\")
_SPARE_MARKERS = ("<", ">", "h", "p", "d", "8")


def emotion_hatch(label: str) -> str:
    """The matplotlib hatch of an emotion's bars (a stable spare one for unknown labels)."""
    return HATCHES.get(label, _SPARE_HATCHES[sum(map(ord, label)) % len(_SPARE_HATCHES)])


def emotion_marker(label: str) -> str:
    """The matplotlib marker of an emotion's lines and points (a stable spare one for unknown labels)."""
    return MARKERS.get(label, _SPARE_MARKERS[sum(map(ord, label)) % len(_SPARE_MARKERS)])
