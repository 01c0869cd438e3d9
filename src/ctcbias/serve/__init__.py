"""ctcbias.serve."""
