"""Compiled streaming kernels (built from ``cython_kernels/*.pyx``).

Each kernel processes float32 audio in place or into preallocated buffers with the GIL released
for the whole block, and keeps the state that makes chunked processing equal one call.
"""
