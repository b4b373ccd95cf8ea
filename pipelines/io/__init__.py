"""Storage without Spark: local paths and s3:// URIs, read and written the same way by the
driver and the Python workers (`storage` is the surface)."""
