"""Looking at results: the HTML session report and its figures (matplotlib, Agg only; no Qt)."""
