"""ctcbias.text."""
