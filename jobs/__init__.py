"""What users run: the `earlyfuse` command line and the spark-submit entry script."""
