"""Outputs of a run. Every sink has one shape (`base.Sink`: `write(result, image)`, `close(status)`): the CSV and
its sidecar, the annotated video, the markers file, LSL outlets; `safety` checks every output before work starts."""
