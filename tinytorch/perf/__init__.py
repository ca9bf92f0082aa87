"""Measurement and optimization (Modules 14–19): profile, quantize, prune, fuse, cache, benchmark."""
