"""A session CSV as a pandas table for analysts: `read_session(path)`, with its sidecar and markers in `.attrs`.

Reads today's CSVs (one row per face per frame) and those that also keep the frames without a face: a row whose
`face_id` is empty is a "no face" frame; it counts for face-found % and presence, never for emotion means.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from emotiondesk.analysis.recorded import face_names_of, read_sidecar, source_fps
from emotiondesk.errors import RecordingError
from emotiondesk.sinks.csv_sink import FIXED_COLUMNS, frame_interval
from emotiondesk.sinks.markers import load_markers, markers_path

if TYPE_CHECKING:
    import pandas as pd

TEXT_COLUMNS = {"label", "smoothed_label", "wall_time", "participant", "session", "face_name", "source_file"}


def read_session(path: Path | str) -> pd.DataFrame:
    """One row per CSV row, numbers parsed (`face_id` is a nullable integer: empty on "no face" frames), plus
    `face_found` (0/1; derived from `face_id` when the CSV has no such column), `face_key` (the ID after the
    window's merges) and `face` (the face's name, else its ID, merges applied).

    `.attrs` holds `path`, `sidecar` (the JSON beside the CSV, {} if none), `labels` (the model's emotions, in
    column order), `markers` (dicts of the `_markers.csv`), `interval_s` (seconds one frame stands for) and
    `keeps_empty_frames` (True when the CSV has rows for frames without a face) and
    `face_names` / `face_merges` (as the sidecar stores them, plus names typed while recording).
    Raises RecordingError naming the file on anything that is not a readable emotiondesk CSV."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise RecordingError(f"{path}: no such file")
    try:
        header = list(pd.read_csv(path, nrows=0, encoding="utf-8").columns)
        text = {column: str for column in header if column in TEXT_COLUMNS}
        empty = {column: [""] for column in header if column not in TEXT_COLUMNS}  # an empty number is missing
        table = pd.read_csv(path, dtype=text, keep_default_na=False, na_values=empty, encoding="utf-8")
    except (OSError, ValueError, UnicodeDecodeError) as error:  # pandas' parser and empty-file errors are ValueErrors
        raise RecordingError(f"{path}: cannot read session ({str(error).splitlines()[0]})") from None
    labels = [column[2:] for column in table.columns if column.startswith("p_")]
    missing = [column for column in FIXED_COLUMNS if column not in table.columns]
    if missing or not labels:
        raise RecordingError(f"{path}: not an emotiondesk CSV (missing columns: {', '.join(missing) or 'p_<emotion>'})")
    columns = list(table.columns)
    try:
        for column in (c for c in columns if c not in TEXT_COLUMNS):
            if not pd.api.types.is_numeric_dtype(table[column]):  # the C parser left text in a number column
                try:
                    table[column] = pd.to_numeric(table[column])
                except ValueError as error:
                    raise ValueError(f"column {column}: {error}") from None
        table["face_id"] = table["face_id"].astype("Int64")
        table["frame"] = table["frame"].astype("int64")
        if table["time_s"].isna().any():
            raise ValueError("a row without time_s")
    except (ValueError, TypeError) as error:
        raise RecordingError(f"{path}: cannot read session ({error})") from None
    if "face_found" in table.columns:
        table["face_found"] = (table["face_found"].fillna(0) > 0).astype("int64") * table["face_id"].notna()
    else:
        table["face_found"] = table["face_id"].notna().astype("int64")
    sidecar = read_sidecar(path)
    found = table[table["face_id"].notna()]
    typed = found.loc[found["face_name"] != "", ["face_id", "face_name"]].drop_duplicates("face_id", keep="last")
    names = face_names_of(sidecar, ((int(i), str(n)) for i, n in typed.itertuples(index=False)))
    keys = {int(i): names.canonical(int(i)) for i in found["face_id"].unique()}
    table["face_key"] = table["face_id"].map(keys).astype("Int64")
    table["face"] = table["face_key"].map({key: names.names.get(key) or str(key) for key in set(keys.values())})
    table.attrs.update(
        path=str(path),
        keeps_empty_frames="face_found" in columns or bool(table["face_id"].isna().any()),
        sidecar=sidecar,
        labels=labels,
        markers=[
            {"time_s": m.time_s, "frame": m.frame, "marker": m.marker, "text": m.text, "wall_time": m.wall_time}
            for m in load_markers(markers_path(path))
        ],
        interval_s=frame_interval([{"time_s": t} for t in table["time_s"].unique()], source_fps(sidecar)),
        **names.as_dict(),
    )
    return table
