"""Running an analysis: one input (`analyze`), many (`batch`), and the native-library log every run keeps."""
