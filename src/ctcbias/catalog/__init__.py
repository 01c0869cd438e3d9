"""ctcbias.catalog."""
