package io.extentflow.sources.qcow2;

import io.extentflow.engine.capability.CachedReads;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/** One file of a backing chain: a qcow2 image or a raw file. */
sealed interface Layer extends AutoCloseable permits Qcow2Layer, RawLayer {

    Path path();

    /** {@code qcow2} or {@code raw}. */
    String format();

    /**
     * The size the layer above compares guest offsets with: past it the layer reads as zeros and is
     * not asked. For raw files qemu rounds the file size up to 512 bytes.
     */
    long statusSize();

    /** Smallest guest range that can have its own status (a cluster, a subcluster, a file system block). */
    long granularity();

    /**
     * Appends runs covering exactly {@code [from, to)} (within {@link #statusSize()}) to {@code out},
     * adjacent runs that {@link LayerRun#continuedBy continue each other} merged.
     *
     * @param mayBlock false to throw {@link WouldBlock} instead of reading from the file
     */
    void runs(long from, long to, boolean mayBlock, List<LayerRun> out) throws IOException;

    /**
     * Fills {@code dst} (position to limit) with file bytes from {@code host}; bytes past the end of
     * the file read as zeros. Blocking.
     */
    void readHost(long host, ByteBuffer dst) throws IOException;

    /**
     * The runs of {@code [from, to)} for a read that must not wait for the disk: as {@link #runs}
     * with {@code mayBlock} false, except that a range whose bytes in the file read as what it holds
     * may be {@link LayerRun.Kind#DATA} without asking the file where its holes are (a raw file's holes,
     * or a data cluster's host range in a hole, read as the zeros they hold).
     */
    default void readableRuns(long from, long to, List<LayerRun> out) throws IOException {
        runs(from, to, false, out);
    }

    /**
     * Copies what of the file bytes from {@code host} is in the page cache into {@code dst}, from its
     * position, as {@link CachedReads#readCached} does (bytes past the end of the file read as zeros,
     * as in {@link #readHost}); returns the count. Never waits for the disk.
     */
    int readCached(long host, ByteBuffer dst);

    /**
     * {@link #readCached} for a file of {@code fileSize} bytes whose page cache {@code file} reads:
     * the bytes in the file as far as they are cached, then, if all were, zeros for the rest.
     */
    static int readCachedFile(CachedReads file, long fileSize, long host, ByteBuffer dst) {
        int length = dst.remaining();
        int inFile = (int) Math.max(0, Math.min(length, fileSize - host));
        int n = inFile == 0 ? 0 : file.readCached(host, dst.slice(dst.position(), inFile));
        if (n == inFile && inFile < length) {
            MemorySegment.ofBuffer(dst.slice(dst.position() + inFile, length - inFile)).fill((byte) 0);
            n = length;
        }
        dst.position(dst.position() + n);
        return n;
    }

    @Override
    void close();

    /**
     * Guest bytes a lookup within which needs at most one metadata table of this layer (from a
     * multiple of it); unbounded for a layer without tables.
     */
    default long tableReach() {
        return Long.MAX_VALUE;
    }
}
