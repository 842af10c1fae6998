package io.extentflow.sinks.qcow2;

import io.extentflow.engine.qcow2.Qcow2Format;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * How a {@link Qcow2FileSink} lays out the image it writes.
 *
 * @param clusterSize   bytes per cluster: a power of two from 4 KiB to 2 MiB (qemu's default is 64 KiB)
 * @param compression   how data clusters are stored
 * @param backingFile   the backing file name exactly as it goes into the header (a relative name
 *                      resolves from the directory of the image, as qemu resolves it), or null for an
 *                      image without backing file
 * @param backingFormat {@code raw} or {@code qcow2}, written as the backing format header extension;
 *                      null to probe the backing file's format
 */
public record Qcow2SinkOptions(int clusterSize, Qcow2Compression compression, String backingFile,
                               String backingFormat) {

    /** qemu's default cluster size. */
    public static final int DEFAULT_CLUSTER_SIZE = 64 << 10;
    public static final int MIN_CLUSTER_SIZE = 4 << 10;
    public static final int MAX_CLUSTER_SIZE = 1 << Qcow2Format.MAX_CLUSTER_BITS;

    public Qcow2SinkOptions {
        Objects.requireNonNull(compression, "compression");
        if (clusterSize < MIN_CLUSTER_SIZE || clusterSize > MAX_CLUSTER_SIZE || Integer.bitCount(clusterSize) != 1) {
            throw new IllegalArgumentException("cluster size " + clusterSize
                    + " is not a power of two from 4 KiB (4096) to 2 MiB (2097152)");
        }
        if (backingFile != null) {
            if (backingFile.isEmpty() || backingFile.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("backing file name '" + backingFile + "' is empty or holds a NUL byte");
            }
            if (backingFile.getBytes(StandardCharsets.UTF_8).length > Qcow2Format.MAX_BACKING_NAME) {
                throw new IllegalArgumentException("backing file name is longer than "
                        + Qcow2Format.MAX_BACKING_NAME + " bytes");
            }
        } else if (backingFormat != null) {
            throw new IllegalArgumentException("a backing format (" + backingFormat + ") needs a backing file");
        }
        if (backingFormat != null && !backingFormat.equals("raw") && !backingFormat.equals("qcow2")) {
            throw new IllegalArgumentException("backing format '" + backingFormat + "' is not raw or qcow2");
        }
    }

    /** 64 KiB clusters, no compression, no backing file. */
    public static Qcow2SinkOptions defaults() {
        return new Qcow2SinkOptions(DEFAULT_CLUSTER_SIZE, Qcow2Compression.NONE, null, null);
    }

    /** The same options with another cluster size. */
    public Qcow2SinkOptions withClusterSize(int size) {
        return new Qcow2SinkOptions(size, compression, backingFile, backingFormat);
    }

    /** The same options with another compression. */
    public Qcow2SinkOptions withCompression(Qcow2Compression value) {
        return new Qcow2SinkOptions(clusterSize, value, backingFile, backingFormat);
    }

    /** The same options over a backing file ({@code format} null to probe it). */
    public Qcow2SinkOptions withBacking(String file, String format) {
        return new Qcow2SinkOptions(clusterSize, compression, file, format);
    }

    /** log2 of the cluster size. */
    public int clusterBits() {
        return Integer.numberOfTrailingZeros(clusterSize);
    }
}
