"""Unit-free, I/O-free numeric kernels on float64 SI arrays."""
