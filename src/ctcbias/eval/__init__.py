"""ctcbias.eval."""
