"""The per-frame stages, in pipeline order: face detection, crops, emotion classification, tracking and smoothing,
face details (blendshapes, head pose)."""
