#!/usr/bin/env python3
"""warm.py FILE... - read the data extents of files (SEEK_DATA/SEEK_HOLE) into the page cache.

Holes are skipped: reading them would fill the cache with zero pages (8 GiB for sparse-8g.raw).
"""
import os
import sys

for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        pos = 0
        while pos < size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:  # ENXIO: no data after pos
                break
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            p = data
            while p < hole:
                n = len(os.pread(fd, min(8 << 20, hole - p), p))
                if n == 0:
                    break
                p += n
            pos = hole
    finally:
        os.close(fd)
