package io.extentflow.engine.testing;

import io.extentflow.engine.io.OpenFile;
import io.extentflow.engine.io.Posix;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Puts files in and out of the page cache, for the tests of reads that take only what is cached
 * ({@link io.extentflow.engine.capability.CachedReads}) and leave the rest to the file I/O threads.
 */
public final class PageCache {

    /** posix_fadvise(2): read only what is asked, no read-ahead. */
    private static final int POSIX_FADV_RANDOM = 1;

    private PageCache() {
    }

    /** Drops {@code file} from the page cache (written back first: dirty pages stay). */
    public static void evict(Path file) throws Exception {
        evict(file, 0, 0);
    }

    /**
     * Drops {@code [offset, offset + length)} of {@code file} (a length of 0: to its end) from the page
     * cache, written back first.
     */
    public static void evict(Path file, long offset, long length) throws Exception {
        try (OpenFile f = OpenFile.readOnly(file)) {
            Posix.fdatasync(f.fd());
            Posix.fadvise(f.fd(), offset, length, Posix.POSIX_FADV_DONTNEED);
        }
    }

    /**
     * Reads the first 64 KiB of every 128 KiB of {@code file} into the page cache, and only those:
     * without read-ahead ({@code POSIX_FADV_RANDOM}), which would fill the gaps, in pages small enough
     * to evict apart. (Dropping every other 64 KiB of a cached file instead left most of it cached: a
     * read of a large file caches it in folios of up to 2 MiB, which a partial DONTNEED keeps.)
     */
    public static void cacheEveryOther64k(Path file) throws Exception {
        try (OpenFile f = OpenFile.readOnly(file)) {
            Posix.fadvise(f.fd(), 0, 0, POSIX_FADV_RANDOM);
            ByteBuffer buffer = ByteBuffer.allocateDirect(64 << 10);
            for (long at = 0, size = f.size(); at < size; at += 128 << 10) {
                buffer.clear();
                while (buffer.hasRemaining() && f.channel().read(buffer, at + buffer.position()) > 0) {
                    // until 64 KiB are read
                }
            }
        }
    }

    /** The bytes of {@code file} in the page cache, by util-linux's fincore. */
    public static long residentBytes(Path file) {
        return Long.parseLong(ExternalTool.check("fincore", "--bytes", "--noheadings", "--raw", "--output", "RES",
                file.toString()).trim());
    }
}
