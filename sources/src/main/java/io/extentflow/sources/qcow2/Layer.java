package io.extentflow.sources.qcow2;

import java.io.IOException;
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

    @Override
    void close();
}
