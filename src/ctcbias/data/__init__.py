"""ctcbias.data."""
