"""Writes. Each function owns its transaction, validates before saving and is named <entity>_<action>."""
