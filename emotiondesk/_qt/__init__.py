"""The PySide6 desktop shell. Only this package imports Qt; the core never does."""
