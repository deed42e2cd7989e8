"""From sessions to a study: per-condition results across participants (pandas).

A marker starts a segment that runs to the next marker or to the end of the session (or, with `window_s`, for
that many seconds); the marker's text names its condition (`conditions` maps numbers or texts to names); the time
before the first marker is the condition `(before first marker)`. `build_study` reads every session with its
sidecar and markers into one tidy table (one row per participant × session × face × condition × emotion) plus a
data-quality table; `study_report.write_study` writes `study.csv`, `study.html` and `study.json`.

Sessions analysed with different models or label sets are never averaged together: they are refused, or (with
`by_model`) kept as separate groups, each with its own means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from emotiondesk.errors import EmotionDeskError
from emotiondesk.sinks.csv_sink import FIXED_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

BEFORE_FIRST_MARKER = "(before first marker)"
STUDY_COLUMNS = [
    "participant",
    "session",
    "face",
    "condition",
    "emotion",
    "mean_probability",
    "share_labelled",
    "seconds",
    "frames",
    "start_s",
    "end_s",
    "model",
    "model_version",
]
BASELINE_COLUMNS = ["mean_probability_minus_baseline", "share_labelled_minus_baseline"]
OUTPUT_NAMES = ("study.csv", "study.html", "study.json")
INDEX_NAME = "index.csv"  # a batch output folder's index (emotiondesk.runs.batch writes it)
FACE_FOUND_FLAG = 0.8  # sessions whose face was found less often than this are flagged
BOOTSTRAP_RESAMPLES = 10_000
CI_METHOD = (
    f"95 % percentile bootstrap over participants ({BOOTSTRAP_RESAMPLES:,} resamples of the participants' means, "
    "seed 0); none for a single participant. With few participants (under about 10) a bootstrap interval is too "
    "narrow: read it as a rough guide."
)


class StudyError(EmotionDeskError):
    """A study cannot be built from these inputs (none found, mixed models, an unknown baseline, …)."""


@dataclass
class StudySession:
    """One session of a study: its table, who and what it is, and how its recording went."""

    path: Path
    table: pd.DataFrame
    participant: str
    session: str
    model: str
    model_version: str
    labels: tuple[str, ...]
    status: str
    frames: int  # frames analysed (with or without a face)
    interval_s: float
    start_s: float
    end_s: float
    merged: int  # face IDs merged into another in the window
    group_title: str = ""  # the model group it is averaged in (set by model_groups)

    @property
    def group(self) -> str:
        """`model version` — the sessions that may be averaged together (their labels must match too)."""
        return " ".join(p for p in (self.model or "unknown model", self.model_version) if p)


@dataclass
class Study:
    """The tidy table, the per-session data quality, the groups (one per model and label set) and notes."""

    table: pd.DataFrame
    quality: pd.DataFrame
    sessions: list[StudySession]
    conditions: list[str]
    groups: dict[str, tuple[str, ...]]  # group title → its labels
    settings: dict
    notes: list[str] = field(default_factory=list)

    def group_table(self, title: str) -> pd.DataFrame:
        """The tidy rows of one model group's sessions."""
        members = {(s.participant, s.session) for s in self.sessions if s.group_title == title}
        keys = self.table[["participant", "session"]].apply(tuple, axis=1) if len(self.table) else []
        return self.table[[key in members for key in keys]] if len(self.table) else self.table

    def condition_means(self, title: str | None = None, value: str = "mean_probability") -> pd.DataFrame:
        """Per condition × emotion of one model group (the only one when None): the mean across participants,
        its 95 % bootstrap CI (`ci_low`, `ci_high`) and `n`."""
        table = self.group_table(title if title is not None else next(iter(self.groups)))
        return condition_means(participant_means(table, value), value)


def parse_conditions(text: str | None) -> dict[str, str]:
    """`"1=baseline,2=video A"` → {'1': 'baseline', '2': 'video A'}; keys are marker numbers or texts."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, name = part.partition("=")
        if not sep or not key.strip() or not name.strip():
            raise StudyError(f'--conditions: {part.strip()!r} is not KEY=NAME (e.g. "1=baseline,2=video A")')
        mapping[key.strip()] = name.strip()
    return mapping


def condition_of(number: int, text: str, conditions: dict[str, str]) -> str:
    """A marker's condition: its text (renamed through `conditions` when listed), else its number's name."""
    if text:
        return conditions.get(text, text)
    return conditions.get(str(number), str(number)) if number else conditions.get("0", "marker")


def is_session_csv(path: Path) -> bool:
    """A CSV whose header starts like an emotiondesk session CSV (cheap: the first line only)."""
    try:
        with open(path, encoding="utf-8") as handle:
            header = handle.readline().strip().split(",")
    except (OSError, UnicodeDecodeError):
        return False
    return set(FIXED_COLUMNS) <= set(header) and any(c.startswith("p_") for c in header)


def find_sessions(inputs: Iterable[Path | str], notes: list[str] | None = None) -> list[Path]:
    """Session CSVs named by `inputs`: CSV files, folders searched for them (markers CSVs, batch indexes and
    study outputs left out), and batch output folders (the CSVs their `index.csv` lists). Each once, in order."""
    found: list[Path] = []
    notes = notes if notes is not None else []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            index = path / INDEX_NAME
            if index.is_file():
                candidates = _batch_csvs(index, notes)
            else:
                candidates = sorted(
                    p for p in path.rglob("*.csv") if p.name not in (INDEX_NAME, *OUTPUT_NAMES) and p.is_file()
                )
                candidates = [p for p in candidates if not p.name.endswith("_markers.csv")]
            for candidate in candidates:
                if is_session_csv(candidate):
                    found.append(candidate)
                else:
                    notes.append(f"{candidate}: skipped (not an emotiondesk session CSV)")
        elif path.is_file():
            if path.name == INDEX_NAME:
                found.extend(p for p in _batch_csvs(path, notes) if is_session_csv(p))
            elif not is_session_csv(path):
                raise StudyError(f"{path}: not an emotiondesk session CSV")
            else:
                found.append(path)
        else:
            raise StudyError(f"{path}: no such file or folder")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def _batch_csvs(index: Path, notes: list[str]) -> list[Path]:
    import pandas as pd

    try:
        rows = pd.read_csv(index, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as error:
        raise StudyError(f"{index}: cannot read the batch index ({str(error).splitlines()[0]})") from None
    if "csv" not in rows.columns:
        raise StudyError(f"{index}: not a batch index (no csv column)")
    paths = []
    for name, status in zip(rows["csv"], rows.get("status", [""] * len(rows))):
        if name and (index.parent / name).is_file():
            paths.append(index.parent / name)
        elif name or status in ("failed", "pending"):
            notes.append(f"{index}: {name or 'an input'} left out ({status or 'no CSV'})")
    return paths


def load_study_session(path: Path) -> StudySession:
    """Read one session (CSV, sidecar, markers) and work out who, what model, how it ended and its time span."""
    from emotiondesk.analysis.tables import read_session

    table = read_session(path)
    side = table.attrs["sidecar"]
    info = side.get("session") or {}
    model = side.get("model") or {}

    def first(column: str) -> str:
        values = table[column][table[column] != ""] if column in table.columns else []
        return str(values.iloc[0]) if len(values) else ""

    participant = str(info.get("participant") or first("participant") or path.stem)
    session = str(info.get("session") or first("session") or path.stem)
    interval = float(table.attrs["interval_s"]) or 0.0
    analysed = int(table["frame"].nunique())
    if not table.attrs["keeps_empty_frames"]:  # today's CSVs have no rows for frames without a face
        analysed = max(analysed, int(side.get("frames") or 0))
    video = (side.get("source") or {}).get("kind") == "video"
    start = 0.0 if video else float(table["time_s"].min()) if len(table) else 0.0
    end = float(table["time_s"].max()) + interval if len(table) else start
    if video and interval:  # frame n of a video is at n / fps (time_s is rounded to milliseconds)
        end = max(int(table["frame"].max()) + 1 if len(table) else 0, analysed) * interval
    return StudySession(
        Path(path),
        table,
        participant,
        session,
        str(model.get("name") or (Path(model["path"]).stem if model.get("path") else "")),
        str(model.get("version") or ""),
        tuple(table.attrs["labels"]),
        str(side.get("status") or "unknown"),
        analysed,
        interval,
        start,
        end,
        len(table.attrs.get("face_merges") or {}),
    )


def session_segments(session: StudySession, conditions: dict[str, str], window_s: float | None = None) -> pd.DataFrame:
    """The session's segments in time order: `condition, start_s, end_s` (empty ones and those past the end left
    out). A marker's segment runs to the next marker (or the end), or for `window_s` seconds."""
    import pandas as pd

    markers = pd.DataFrame(session.table.attrs["markers"], columns=["time_s", "marker", "text"])
    markers = markers.sort_values("time_s", kind="stable")
    starts = markers["time_s"].astype(float).to_numpy()
    names = [condition_of(int(n), str(t), conditions) for n, t in zip(markers["marker"], markers["text"])]
    following = [*starts[1:], session.end_s] if len(starts) else []
    ends = [min(s + window_s, session.end_s) for s in starts] if window_s else following
    first = starts[0] if len(starts) else session.end_s
    segments = pd.DataFrame(
        {
            "condition": [BEFORE_FIRST_MARKER, *names],
            "start_s": [session.start_s, *starts],
            "end_s": [min(first, session.end_s), *ends],
        }
    )
    segments["start_s"] = segments["start_s"].clip(lower=session.start_s)
    return segments[segments["end_s"] > segments["start_s"] + 1e-9].reset_index(drop=True)


def session_rows(session: StudySession, conditions: dict[str, str], window_s: float | None = None) -> pd.DataFrame:
    """The session's tidy rows: per face × condition × emotion, over the face's frames in that condition."""
    import pandas as pd

    labels = list(session.labels)
    segments = session_segments(session, conditions, window_s)
    faces = session.table[session.table["face_found"] == 1]
    if segments.empty or faces.empty:
        return pd.DataFrame(columns=STUDY_COLUMNS)
    time = faces["time_s"].to_numpy()
    parts = [
        faces[(time >= start - 1e-6) & (time < end - 1e-6)].assign(condition=condition)
        for condition, start, end in segments.itertuples(index=False)
    ]
    inside = pd.concat(parts, ignore_index=True)
    if inside.empty:
        return pd.DataFrame(columns=STUDY_COLUMNS)
    keys = [inside["face"], inside["condition"]]
    probability = inside[[f"p_{label}" for label in labels]].set_axis(labels, axis=1).groupby(keys, sort=False).mean()
    labelled = pd.get_dummies(inside["smoothed_label"]).reindex(columns=labels, fill_value=False).astype(float)
    share = labelled.groupby(keys, sort=False).mean()
    ids = ["face", "condition"]
    tidy = probability.reset_index().melt(id_vars=ids, var_name="emotion", value_name="mean_probability")
    shares = share.reset_index().melt(id_vars=ids, var_name="emotion", value_name="share_labelled")
    tidy = tidy.merge(shares, on=[*ids, "emotion"])
    frames = inside.groupby(keys, sort=False)["frame"].nunique().rename("frames")
    tidy = tidy.join(frames, on=ids)
    bounds = segments.groupby("condition", sort=False).agg(start_s=("start_s", "min"), end_s=("end_s", "max"))
    tidy = tidy.join(bounds, on="condition")
    tidy["seconds"] = tidy["frames"] * session.interval_s
    tidy = tidy.assign(
        participant=session.participant,
        session=session.session,
        model=session.model,
        model_version=session.model_version,
    )
    order = {name: i for i, name in enumerate(segments["condition"].drop_duplicates())}
    tidy = tidy.assign(
        _condition=tidy["condition"].map(order), _emotion=tidy["emotion"].map({e: i for i, e in enumerate(labels)})
    )
    return tidy.sort_values(["face", "_condition", "_emotion"], kind="stable")[STUDY_COLUMNS]


def quality_row(session: StudySession) -> dict:
    """The session's data quality: frames, face found %, faces, merges, how the run ended, and its flags."""
    table = session.table
    with_face = int(table.loc[table["face_found"] == 1, "frame"].nunique())
    found = with_face / session.frames if session.frames else 0.0
    flags = []
    if session.status != "finished":  # interrupted, error, or still running / unknown
        flags.append(f"run {session.status}")
    if found < FACE_FOUND_FLAG:
        flags.append(f"face found {found:.0%} < {FACE_FOUND_FLAG:.0%}")
    if not table.attrs["markers"]:
        flags.append("no markers")
    past = [m for m in table.attrs["markers"] if m["time_s"] >= session.end_s]
    if past:
        flags.append(f"{len(past)} marker(s) after the end")
    error = (table.attrs["sidecar"].get("error") or "") if session.status == "error" else ""
    return {
        "participant": session.participant,
        "session": session.session,
        "file": str(session.path),
        "model": session.group,
        "frames": session.frames,
        "face_found": found,
        "faces": int(table["face_key"].nunique()),
        "ids_merged": session.merged,
        "markers": len(table.attrs["markers"]),
        "ended": session.status + (f": {error}" if error else ""),
        "flags": "; ".join(flags),
    }


def _unique_session_names(sessions: list[StudySession]) -> None:
    """Two files with the same participant and session name stay apart: the file's name is added."""
    import pandas as pd

    keys = pd.Series([(s.participant, s.session) for s in sessions])
    for session, taken in zip(sessions, keys.duplicated(keep=False)):
        if taken:
            session.session = f"{session.session} ({session.path.stem})"


def model_groups(sessions: list[StudySession], by_model: bool) -> dict[str, tuple[str, ...]]:
    """Group title → labels; refuses sessions of different models or label sets unless `by_model`."""
    groups: dict[tuple, list[StudySession]] = {}
    for session in sessions:
        groups.setdefault((session.model, session.model_version, session.labels), []).append(session)
    if len(groups) > 1 and not by_model:
        described = "; ".join(
            f"{members[0].group} [{', '.join(key[2])}]: {len(members)} session(s), e.g. {members[0].path.name}"
            for key, members in groups.items()
        )
        raise StudyError(
            "sessions were analysed with different models or label sets, which are never averaged together — "
            f"{described}. Analyse them again with one model, or give --by-model for separate groups"
        )
    titles: dict[str, tuple[str, ...]] = {}
    for (_, _, labels), members in groups.items():
        title = members[0].group
        if title in titles:  # the same model name with other labels
            title = f"{title} [{', '.join(labels)}]"
            for member in members:
                member.model_version = f"{member.model_version} [{', '.join(labels)}]".strip()
        titles[title] = labels
        for member in members:
            member.group_title = title
    return titles


def add_baseline(table: pd.DataFrame, baseline: str) -> tuple[pd.DataFrame, list[str]]:
    """Add each row's value minus its participant's own baseline (their frames in `baseline`, all sessions and
    faces pooled); returns the table and the participants who have no baseline."""
    keys = ["model", "model_version", "participant", "emotion"]
    base = table[table["condition"] == baseline]
    weighted = (
        base.assign(p=base["mean_probability"] * base["frames"], s=base["share_labelled"] * base["frames"])
        .groupby(keys)[["p", "s", "frames"]]
        .sum()
    )
    own = (weighted[["p", "s"]].div(weighted["frames"], axis=0)).rename(
        columns={"p": "baseline_probability", "s": "baseline_share"}
    )
    joined = table.join(own, on=keys)
    joined[BASELINE_COLUMNS[0]] = joined["mean_probability"] - joined["baseline_probability"]
    joined[BASELINE_COLUMNS[1]] = joined["share_labelled"] - joined["baseline_share"]
    lacking = sorted(set(table["participant"]) - set(base["participant"]))
    return joined.drop(columns=["baseline_probability", "baseline_share"]), lacking


def participant_means(table: pd.DataFrame, value: str = "mean_probability") -> pd.DataFrame:
    """Per model × participant × condition × emotion: the frame-weighted mean of `value` (all their sessions and
    faces in that condition pooled) and their frames."""
    rows = table.dropna(subset=[value])
    keys = ["model", "model_version", "participant", "condition", "emotion"]
    summed = rows.assign(weighted=rows[value] * rows["frames"]).groupby(keys, sort=False)[["weighted", "frames"]].sum()
    summed[value] = summed["weighted"] / summed["frames"]
    return summed[[value, "frames"]].reset_index()


def bootstrap_ci(values, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """The 95 % percentile bootstrap interval of the mean of `values` (NaN, NaN for fewer than two)."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float("nan"), float("nan")
    draws = np.random.default_rng(seed).integers(0, len(values), (resamples, len(values)))
    low, high = np.quantile(values[draws].mean(axis=1), [0.025, 0.975])
    return float(low), float(high)


def condition_means(per_participant: pd.DataFrame, value: str = "mean_probability") -> pd.DataFrame:
    """Per model × condition × emotion: mean across participants, `ci_low`, `ci_high` (bootstrap) and `n`."""
    import pandas as pd

    keys = ["model", "model_version", "condition", "emotion"]

    def summarise(values: pd.Series) -> pd.Series:
        low, high = bootstrap_ci(values.to_numpy())
        return pd.Series({"mean": values.mean(), "ci_low": low, "ci_high": high, "n": len(values)})

    if per_participant.empty:
        return pd.DataFrame(columns=[*keys, "mean", "ci_low", "ci_high", "n"])
    means = per_participant.groupby(keys, sort=False)[value].apply(summarise).unstack().reset_index()
    means["n"] = means["n"].astype(int)
    return means


def condition_order(table: pd.DataFrame) -> list[str]:
    """`(before first marker)` first, then the conditions by their median start time across sessions."""
    if table.empty:
        return []
    present = table.groupby("condition")["start_s"].median().sort_values(kind="stable").index.tolist()
    return sorted(present, key=lambda name: name != BEFORE_FIRST_MARKER)


def build_study(
    inputs: Iterable[Path | str],
    conditions: dict[str, str] | str | None = None,
    window_s: float | None = None,
    baseline: str | None = None,
    by_model: bool = False,
    on_progress: Callable[[int, int, str], None] | None = None,
    sessions: list[Path] | None = None,
) -> Study:
    """Read every session named by `inputs` and build the study (see the module's docstring)."""
    import pandas as pd

    notes: list[str] = []
    if isinstance(conditions, str) or conditions is None:
        conditions = parse_conditions(conditions)
    if window_s is not None and not window_s > 0:
        raise StudyError(f"--window {window_s}: must be more than 0 seconds")
    paths = sessions if sessions is not None else find_sessions(inputs, notes)
    if not paths:
        raise StudyError(f"{', '.join(map(str, inputs)) or 'no input'}: no session CSVs found")
    loaded = []
    for number, path in enumerate(paths):
        if on_progress is not None:
            on_progress(number, len(paths), path.name)
        loaded.append(load_study_session(path))
    _unique_session_names(loaded)
    groups = model_groups(loaded, by_model)
    if len(groups) > 1:
        notes.insert(
            0,
            f"{len(groups)} groups of sessions analysed with different models or label sets are "
            "reported separately and never averaged together.",
        )
    table = pd.concat([session_rows(s, conditions, window_s) for s in loaded], ignore_index=True)
    table = table.astype({"frames": "int64"}) if not table.empty else table
    if baseline is not None:
        if baseline not in set(table["condition"]):
            known = ", ".join(sorted(set(table["condition"]))) or "none"
            raise StudyError(f"--baseline {baseline!r}: no session has that condition (conditions: {known})")
        table, lacking = add_baseline(table, baseline)
        if lacking:
            notes.append(f"No {baseline!r} segment (so no values minus baseline) for: {', '.join(lacking)}.")
    if on_progress is not None:
        on_progress(len(paths), len(paths), "")
    quality = pd.DataFrame([quality_row(s) for s in loaded])
    settings = {
        "conditions": conditions,
        "window_s": window_s,
        "baseline": baseline,
        "by_model": by_model,
        "ci": CI_METHOD,
    }
    return Study(table, quality, loaded, condition_order(table), groups, settings, notes)


def read_study(
    inputs: Iterable[Path | str] | Path | str,
    conditions: dict[str, str] | str | None = None,
    window_s: float | None = None,
    baseline: str | None = None,
    by_model: bool = False,
) -> pd.DataFrame:
    """The study's tidy table (`study.csv`'s rows) for session CSVs, folders of them or batch output folders."""
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    return build_study(inputs, conditions, window_s, baseline, by_model).table
