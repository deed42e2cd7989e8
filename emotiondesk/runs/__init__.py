"""Running an analysis: one input (`analyze`), many (`batch`: `index`, `tasks`, on the `local` pool or a Dask
`cluster`), and the native-library log every run keeps."""
