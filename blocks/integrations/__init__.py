"""Bridges from Blocks to other systems (optional extras; never imported by ``import blocks``)."""
