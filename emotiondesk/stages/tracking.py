"""Stable face IDs across frames: motion matching, re-identification after a gap, participant mode, and the
temporal smoothing of probabilities.

- Motion: this frame's faces match the tracks seen within `max_missing_s` by IoU with each track's predicted box.
- Re-identification (`reid_s` > 0): a face left over comes back under the ID of a track lost for up to `reid_s`
  when its appearance (a uniform-LBP histogram of the 48×48 crop the classifier gets, `appearance`), size and
  place agree. A track matched in this frame is never a candidate, so a face never takes the ID of a face
  visible in the same frame.
- Participant mode (`max_faces` = N): only the N most prominent faces (largest, nearest the centre) are kept,
  numbered 1…N; a face takes a held number only when clearly more prominent for a while (hysteresis).

State stays bounded: a lost track is forgotten after `reid_s`, and at most `max_lost` lost tracks are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emotiondesk.types import Box, Face

APPEARANCE_DESCRIPTION = "uniform LBP (8 neighbours, radius 1) histograms on a 4×4 grid of the 48×48 crop"


def _uniform_lbp_table() -> np.ndarray:
    """Map each 8-bit LBP code to one of 59 bins: 58 uniform patterns (≤ 2 bit changes round the circle), 1 other."""
    table = np.full(256, 58, np.uint8)
    uniform = [c for c in range(256) if bin(c ^ (((c << 1) | (c >> 7)) & 0xFF)).count("1") <= 2]
    table[uniform] = np.arange(len(uniform), dtype=np.uint8)
    return table


_LBP_TABLE = _uniform_lbp_table()
_LBP_BINS = 59
_GRID = 4
_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


def _cell_index(side: int) -> np.ndarray:
    """For an LBP image `side`×`side`: each pixel's grid cell × bins (added to its code for one bincount)."""
    cells = np.minimum(np.arange(side) * _GRID // side, _GRID - 1)
    return ((cells[:, None] * _GRID + cells[None, :]) * _LBP_BINS).astype(np.intp)


_CELLS_46 = _cell_index(46)


def appearance(crop: np.ndarray) -> np.ndarray:
    """A face's appearance cue: per grid cell, the square root of its uniform-LBP histogram, the whole scaled to
    unit length, so the dot product of two is their mean Bhattacharyya coefficient (1 = same texture, 0 = none).

    `crop` is one 48×48 gray crop (any leading singleton axes). LBP compares each pixel with its neighbours, so
    it ignores overall brightness and contrast, and the grid keeps where on the face each texture is.
    """
    image = np.asarray(crop, np.float32).reshape(crop.shape[-2], crop.shape[-1])
    centre = image[1:-1, 1:-1]
    h, w = centre.shape
    code = np.zeros((h, w), np.uint8)
    for bit, (dy, dx) in enumerate(_OFFSETS):
        code |= (image[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] >= centre).astype(np.uint8) << bit
    cells = _CELLS_46 if (h, w) == (46, 46) else _cell_index(h)[:, :w]
    counts = np.bincount((cells + _LBP_TABLE[code]).ravel(), minlength=_GRID * _GRID * _LBP_BINS)
    root = np.sqrt(counts.astype(np.float32))
    norm = float(np.linalg.norm(root))
    return root / norm if norm > 0 else root


@dataclass
class Track:
    face_id: int
    box: Box
    last_seen_s: float
    velocity: tuple[float, float] = (0.0, 0.0)  # centre motion, pixels per second
    smoothed: np.ndarray | None = None
    hits: int = 1
    first_seen_s: float = 0.0
    appearance: np.ndarray | None = None  # running mean of `appearance()` over its clear sightings
    looks: int = 0  # sightings averaged into `appearance`
    prominence: float = 0.0  # participant mode: running mean of `prominence()`
    challenger_since: float | None = None  # participant mode: since when it has been out-shining a held face
    occluded: bool = False  # lost where its motion took it over another face (hidden behind it)

    def predicted(self, time_s: float) -> Box:
        dt = time_s - self.last_seen_s
        return Box(
            int(self.box.x + self.velocity[0] * dt), int(self.box.y + self.velocity[1] * dt), self.box.w, self.box.h
        )


def match_score(track_box: Box, face_box: Box) -> float:
    """IoU, or for non-overlapping boxes a small score that falls with centre distance (fast motion)."""
    iou = track_box.iou(face_box)
    if iou > 0:
        return iou
    (tx, ty), (fx, fy) = track_box.center, face_box.center
    size = max(track_box.w, track_box.h, face_box.w, face_box.h, 1)
    distance = np.hypot(tx - fx, ty - fy) / size
    return max(0.0, 0.1 * (1.0 - distance))


def prominence(box: Box, frame_size: tuple[int, int] | None) -> float:
    """How much a face is the subject: its side relative to the frame height, less up to half for sitting off
    centre (0 at the centre, half at a corner). Without a frame size: the side in pixels."""
    side = float(max(box.w, box.h))
    if not frame_size:
        return side
    width, height = frame_size
    cx, cy = box.center
    off_centre = np.hypot(cx - width / 2, cy - height / 2) / max(np.hypot(width / 2, height / 2), 1.0)
    return side / max(height, 1) * (1.0 - 0.5 * min(off_centre, 1.0))


@dataclass(frozen=True)
class ReidRules:
    """When a face left over after motion matching is a lost track come back (measured: bench/tracking.py)."""

    same_look: float = 0.90  # appearance similarity that alone says "the same face" (anywhere in the frame)
    near_look: float = 0.78  # enough where the face comes back near where it was lost
    near: float = 1.5  # "near": centre within this many face sides of where it was lost (or its motion led)
    size_ratio: float = 1.6  # the face's side at most this many times larger or smaller than when lost
    blind_near: float = 0.5  # without an appearance cue: back within this many face sides


class FaceTracker:
    """Greedy best-score matching of this frame's faces to tracks, then re-identification of the rest.

    A track matches by motion for `max_missing_s` after its last detection; a face back later (up to `reid_s`)
    gets the old ID when `ReidRules` say it is the same face (needs crops; without them only position and size
    count). `max_faces` = N keeps the N most prominent faces, numbered 1…N. `smoothing_window` frames set the
    EMA of probabilities (1 = no smoothing).
    """

    OCCLUDED_S = 3.0  # a face hidden behind another keeps matching by motion this long (with re-identification)
    LOOK_WEIGHT = 1.0  # weight of appearance similarity (same face ~0.9, another ~0.6) where motion is ambiguous
    APPEARANCE_EVERY = 5  # a matched track's look is refreshed every this many sightings (LBP costs ~40 µs)
    PROMINENCE_ALPHA = 0.2  # per-frame weight of the newest prominence in a track's running mean
    TAKEOVER_MARGIN = 1.5  # participant mode: a face must be this many times more prominent…
    TAKEOVER_S = 2.0  # …for this long to take a held number
    CLAIM_HALF_LIFE_S = 30.0  # a free number's claim (its last holder's prominence) halves this often

    def __init__(
        self,
        min_score: float = 0.05,
        max_missing_s: float = 1.0,
        smoothing_window: int = 5,
        reid_s: float = 0.0,
        max_faces: int | None = None,
        rules: ReidRules | None = None,
        max_lost: int = 32,
    ) -> None:
        self.min_score = min_score
        self.max_missing_s = max_missing_s
        self.reid_s = max(reid_s, 0.0)
        self.max_faces = max_faces if max_faces and max_faces > 0 else None
        self.rules = rules or ReidRules()
        self.max_lost = max_lost
        self.alpha = 2.0 / (max(smoothing_window, 1) + 1)
        self.tracks: dict[int, Track] = {}
        self.next_id = 1
        self.last_time_s: float | None = None
        self.interval_s = 0.0  # the latest time between frames
        self.slots: dict[int, int] = {}  # participant mode: number shown (1…N) → track ID
        # participant mode: each number's last holder's prominence and when it was last seen
        self.slot_prominence: dict[int, tuple[float, float]] = {}

    def update(
        self,
        faces: list[Face],
        time_s: float,
        crops: np.ndarray | None = None,
        frame_size: tuple[int, int] | None = None,
    ) -> list[Face]:
        """Assign `face_id` and `smoothed` on each face; returns the faces kept (all of them, unless `max_faces`).

        `crops` are the faces' 48×48 classifier crops ([N,1,48,48], same order), `frame_size` (width, height).
        """
        self._forget(time_s)
        clear = self._clear_views(faces, crops)
        looks: dict[int, np.ndarray] = {}
        assigned = self._match_motion(faces, time_s, crops, clear, looks)
        if crops is not None:
            self._looks(faces, crops, assigned, clear, looks)
        if self.reid_s > 0:
            self._match_lost(faces, time_s, assigned, looks)
        self._mark_occluded(faces, time_s, set(assigned.values()))
        for index, face in enumerate(faces):
            if index in assigned:
                track = self.tracks[assigned[index]]
                track.occluded = False
                self._move(track, face.box, time_s)
            else:
                track = Track(self.next_id, face.box, time_s, first_seen_s=time_s)
                self.tracks[track.face_id] = track
                assigned[index] = track.face_id
                self.next_id += 1
            if index in looks:
                self._learn_look(track, looks[index])
            face.face_id = track.face_id
            self._smooth(track, face)
        if self.max_faces is not None:
            return self._keep_prominent(faces, time_s, frame_size)
        return faces

    def _forget(self, time_s: float) -> None:
        """Drop tracks lost for longer than either limit, and the oldest lost tracks past `max_lost`."""
        if self.last_time_s is not None and time_s > self.last_time_s:
            self.interval_s = time_s - self.last_time_s
        self.last_time_s = time_s
        keep_s = max(self.max_missing_s, self.reid_s + self.interval_s)  # away reid_s: seen a frame before and after
        self.tracks = {i: t for i, t in self.tracks.items() if 0 <= time_s - t.last_seen_s <= keep_s}
        lost = sorted((t.last_seen_s, i) for i, t in self.tracks.items() if time_s - t.last_seen_s > self.max_missing_s)
        for _seen, face_id in lost[: max(len(lost) - self.max_lost, 0)]:
            del self.tracks[face_id]
        held = set(self.tracks)
        self.slots = {slot: track for slot, track in self.slots.items() if track in held}

    def _match_motion(
        self, faces: list[Face], time_s: float, crops: np.ndarray | None, clear: set[int], looks: dict[int, np.ndarray]
    ) -> dict[int, int]:
        """Face index → track ID for faces that continue a recently seen track (greedy on `match_score`).

        Where a face could continue more than one track (faces crossing), its look breaks the tie: the score
        gains `LOOK_WEIGHT` × the appearance similarity to each track (computed only then, into `looks`)."""
        pairs = []
        candidates: dict[int, list[Track]] = {}
        for track in self.tracks.values():
            limit = max(self.max_missing_s, min(self.OCCLUDED_S, self.reid_s)) if track.occluded else self.max_missing_s
            if time_s - track.last_seen_s > limit:
                continue
            predicted = track.predicted(time_s)
            for index, face in enumerate(faces):
                score = match_score(predicted, face.box)
                if score >= self.min_score:
                    pairs.append([score, track.face_id, index])
                    candidates.setdefault(index, []).append(track)
        if crops is not None:
            for pair in pairs:
                index, track = pair[2], self.tracks[pair[1]]
                if len(candidates[index]) > 1 and index in clear and track.appearance is not None:
                    if index not in looks:
                        looks[index] = appearance(crops[index])
                    pair[0] += self.LOOK_WEIGHT * float(looks[index] @ track.appearance)
        pairs.sort(reverse=True)
        used: set[int] = set()
        assigned: dict[int, int] = {}
        for _score, face_id, index in pairs:
            if face_id in used or index in assigned:
                continue
            used.add(face_id)
            assigned[index] = face_id
        return assigned

    def _mark_occluded(self, faces: list[Face], time_s: float, matched: set[int]) -> None:
        """A track that goes unseen where its motion puts it over another face is hidden behind that face: it
        keeps matching by motion for up to `OCCLUDED_S` (within `reid_s`), so it comes out the other side."""
        for track in self.tracks.values():
            if track.face_id in matched or track.occluded or time_s - track.last_seen_s > self.max_missing_s:
                continue
            predicted = track.predicted(time_s)
            track.occluded = any(predicted.iou(face.box) > 0 for face in faces)

    @staticmethod
    def _clear_views(faces: list[Face], crops: np.ndarray | None) -> set[int]:
        """Indices of faces whose crop shows them alone (their box overlaps no other face's)."""
        if crops is None:
            return set()
        return {
            index
            for index, face in enumerate(faces)
            if index < len(crops)
            and not any(face.box.iou(other.box) > 0 for j, other in enumerate(faces) if j != index)
        }

    def _looks(
        self,
        faces: list[Face],
        crops: np.ndarray,
        assigned: dict[int, int],
        clear: set[int],
        looks: dict[int, np.ndarray],
    ) -> None:
        """Add to `looks` the appearance of the clear faces that need one: faces not matched by motion, and
        matched ones due a refresh."""
        for index in clear:
            if index in looks:
                continue
            track = self.tracks.get(assigned.get(index, -1))
            if track is None or track.looks == 0 or track.hits % self.APPEARANCE_EVERY == 0:
                looks[index] = appearance(crops[index])

    def _match_lost(
        self, faces: list[Face], time_s: float, assigned: dict[int, int], looks: dict[int, np.ndarray]
    ) -> None:
        """Give faces left over the ID of a lost track (not matched this frame) that `ReidRules` call the same."""
        rules = self.rules
        taken = set(assigned.values())
        candidates = [t for t in self.tracks.values() if t.face_id not in taken and t.last_seen_s < time_s]
        pairs = []
        for index, face in enumerate(faces):
            if index in assigned:
                continue
            look = looks.get(index)
            side = max(face.box.w, face.box.h, 1)
            for track in candidates:
                track_side = max(track.box.w, track.box.h, 1)
                ratio = side / track_side
                if not 1 / rules.size_ratio <= ratio <= rules.size_ratio:
                    continue
                fx, fy = face.box.center
                # from where it was lost, or where its motion would have taken it (walking on behind another face)
                distance = min(
                    float(np.hypot(tx - fx, ty - fy)) / track_side
                    for tx, ty in (track.box.center, track.predicted(min(time_s, track.last_seen_s + 2.0)).center)
                )
                if look is not None and track.appearance is not None:
                    similarity = float(look @ track.appearance)
                    if similarity < rules.same_look and not (similarity >= rules.near_look and distance <= rules.near):
                        continue
                    score = similarity - 0.01 * min(distance, 5.0) - 0.05 * abs(np.log(ratio))
                elif distance <= rules.blind_near:
                    score = rules.near_look - 0.01 * distance  # no look to compare: only the place vouches
                else:
                    continue
                pairs.append((score, track.face_id, index))
        pairs.sort(reverse=True)
        for _score, face_id, index in pairs:
            if face_id in taken or index in assigned:
                continue
            taken.add(face_id)
            assigned[index] = face_id
            track = self.tracks[face_id]
            track.velocity = (0.0, 0.0)  # its old motion says nothing about where it went meanwhile
            track.last_seen_s = time_s  # re-found: motion continues from this sighting
            track.smoothed = None  # nor do its probabilities from before the gap: smoothing starts afresh

    @staticmethod
    def _move(track: Track, box: Box, time_s: float) -> None:
        dt = time_s - track.last_seen_s
        if dt > 0:
            (ox, oy), (nx, ny) = track.box.center, box.center
            measured = ((nx - ox) / dt, (ny - oy) / dt)
            track.velocity = tuple(0.5 * v + 0.5 * m for v, m in zip(track.velocity, measured))
        track.box, track.last_seen_s = box, time_s
        track.hits += 1

    @staticmethod
    def _learn_look(track: Track, look: np.ndarray) -> None:
        """Fold a sighting's appearance into the track's (running mean over the first 20, then a slow EMA)."""
        if track.appearance is None:
            track.appearance, track.looks = look, 1
            return
        weight = 1.0 / min(track.looks + 1, 20)
        mixed = (1 - weight) * track.appearance + weight * look
        track.appearance = mixed / max(float(np.linalg.norm(mixed)), 1e-9)
        track.looks += 1

    def _smooth(self, track: Track, face: Face) -> None:
        if face.probabilities is None:
            return
        if track.smoothed is None or len(track.smoothed) != len(face.probabilities):
            track.smoothed = face.probabilities.astype(np.float32).copy()
        else:
            track.smoothed = self.alpha * face.probabilities + (1 - self.alpha) * track.smoothed
        face.smoothed = track.smoothed.copy()

    def _keep_prominent(self, faces: list[Face], time_s: float, frame_size: tuple[int, int] | None) -> list[Face]:
        """Participant mode: number the held faces 1…N and drop the others.

        A number stays with its face while the face is tracked (also while it is lost, up to `reid_s`); a free
        number goes to the most prominent face not holding one; a held one changes hands only when another face
        has been `TAKEOVER_MARGIN` times more prominent for `TAKEOVER_S`.
        """
        visible = {face.face_id: face for face in faces}
        for face_id, track in self.tracks.items():
            if face_id not in visible:
                track.challenger_since = None  # out-shining must be continuous
        for face_id, face in visible.items():
            track = self.tracks[face_id]
            now = prominence(face.box, frame_size)
            track.prominence = (
                now
                if track.hits == 1
                else (1 - self.PROMINENCE_ALPHA) * track.prominence + (self.PROMINENCE_ALPHA * now)
            )
        holder_of = {track: slot for slot, track in self.slots.items()}
        others = sorted((i for i in visible if i not in holder_of), key=lambda i: -self.tracks[i].prominence)
        for face_id in others:
            challenger = self.tracks[face_id]
            free = [
                slot
                for slot in range(1, self.max_faces + 1)
                if slot not in self.slots
                and challenger.prominence * self.TAKEOVER_MARGIN >= self._slot_claim(slot, time_s)
            ]
            if free:  # a number never held, or one whose face left: not to a face far smaller than its last holder
                self.slots[free[0]] = face_id
                holder_of[face_id] = free[0]
                continue
            weakest = min(
                (s for s, t in self.slots.items() if t in visible),
                key=lambda s: self.tracks[self.slots[s]].prominence,
                default=None,
            )
            if (
                weakest is None
                or challenger.prominence < self.TAKEOVER_MARGIN * self.tracks[self.slots[weakest]].prominence
            ):
                challenger.challenger_since = None
                continue
            if challenger.challenger_since is None:
                challenger.challenger_since = time_s
            if time_s - challenger.challenger_since >= self.TAKEOVER_S:
                del holder_of[self.slots[weakest]]
                self.slots[weakest] = face_id
                holder_of[face_id] = weakest
                challenger.challenger_since = None
        for slot, face_id in self.slots.items():
            if face_id in visible:
                self.slot_prominence[slot] = (self.tracks[face_id].prominence, time_s)
        kept = [face for face in faces if face.face_id in holder_of]
        for face in kept:
            face.face_id = holder_of[face.face_id]
        return sorted(kept, key=lambda face: face.face_id)

    def _slot_claim(self, slot: int, time_s: float) -> float:
        """The prominence a face needs (÷ TAKEOVER_MARGIN) for a free number: its last holder's, halving every
        `CLAIM_HALF_LIFE_S` since that face was last seen (so a bystander does not inherit a participant's number)."""
        if slot not in self.slot_prominence:
            return 0.0
        value, seen_s = self.slot_prominence[slot]
        return value * 0.5 ** (max(time_s - seen_s, 0.0) / self.CLAIM_HALF_LIFE_S)

    def describe(self) -> dict:
        """The tracking settings, as the sidecar records them."""
        return {
            "max_missing_s": self.max_missing_s,
            "reid_s": self.reid_s,
            "reid_appearance": APPEARANCE_DESCRIPTION if self.reid_s > 0 else None,
            "mode": f"participant: the {self.max_faces} most prominent faces, numbered 1–{self.max_faces}"
            if self.max_faces
            else "all faces",
            "max_faces": self.max_faces,
        }

    def reset(self) -> None:
        """Forget every track (a seek); numbers go on from where they were, participant numbers are free again."""
        self.tracks.clear()
        self.slots.clear()
        self.slot_prominence.clear()
