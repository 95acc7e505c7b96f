"""Candid's analysis package: design-based survey estimation on pandas. It never imports Django."""
