"""The command line: the parser and entry point in `main`, one module per command (`analyze`, `batch`, `report`,
`cameras`), exit codes and `fail` in `exits`."""
