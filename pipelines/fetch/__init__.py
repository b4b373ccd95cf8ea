"""Fetching web images by URL: address safety, opt-out, and the HTTP fetcher."""
