"""ctcbias.decode."""
