"""ctcbias.train."""
