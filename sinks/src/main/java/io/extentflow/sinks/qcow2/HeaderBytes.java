package io.extentflow.sinks.qcow2;

import static io.extentflow.engine.qcow2.Qcow2Format.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The first bytes of a qcow2 version 3 image: the header (112 bytes, with the compression type),
 * the header extensions (backing format, end) and the backing file name. Everything fits in the
 * first cluster, which is the smallest cluster (4 KiB) even with the longest backing name.
 */
final class HeaderBytes {

    /** 104 bytes of version 3 fields, the compression type byte, padding to a multiple of 8. */
    static final int HEADER_LENGTH_WITH_COMPRESSION = 112;
    /** 16-bit refcounts. */
    static final int REFCOUNT_ORDER = 4;

    private HeaderBytes() {
    }

    /**
     * The header of an image with everything in place, dirty bit clear.
     *
     * @param compressionType   {@code compression_type}: 0 deflate, 1 zstd
     * @param backingFile       backing file name as written, or null
     * @param backingFormat     backing format name, or null
     */
    static ByteBuffer build(int clusterBits, long size, int l1Size, long l1Offset,
                            MetadataWriter.RefcountTable refcounts, int compressionType,
                            String backingFile, String backingFormat) {
        byte[] name = backingFile == null ? new byte[0] : backingFile.getBytes(StandardCharsets.UTF_8);
        byte[] format = backingFormat == null ? null : backingFormat.getBytes(StandardCharsets.UTF_8);
        int extensions = (format == null ? 0 : 8 + padded(format.length)) + 8;
        int nameOffset = HEADER_LENGTH_WITH_COMPRESSION + extensions;
        ByteBuffer h = ByteBuffer.allocate(nameOffset + name.length);
        h.putInt(0, MAGIC);
        h.putInt(HEADER_VERSION, 3);
        h.putLong(HEADER_BACKING_FILE_OFFSET, name.length == 0 ? 0 : nameOffset);
        h.putInt(HEADER_BACKING_FILE_SIZE, name.length);
        h.putInt(HEADER_CLUSTER_BITS, clusterBits);
        h.putLong(HEADER_SIZE, size);
        h.putInt(HEADER_CRYPT_METHOD, 0);
        h.putInt(HEADER_L1_SIZE, l1Size);
        h.putLong(HEADER_L1_TABLE_OFFSET, l1Offset);
        h.putLong(HEADER_REFCOUNT_TABLE_OFFSET, refcounts.offset());
        h.putInt(HEADER_REFCOUNT_TABLE_CLUSTERS, refcounts.clusters());
        h.putInt(HEADER_NB_SNAPSHOTS, 0);
        h.putLong(HEADER_SNAPSHOTS_OFFSET, 0);
        h.putLong(HEADER_INCOMPATIBLE_FEATURES, compressionType != COMPRESSION_DEFLATE ? INCOMPAT_COMPRESSION : 0);
        h.putLong(HEADER_COMPATIBLE_FEATURES, 0);
        h.putLong(HEADER_AUTOCLEAR_FEATURES, 0);
        h.putInt(HEADER_REFCOUNT_ORDER, REFCOUNT_ORDER);
        h.putInt(HEADER_LENGTH, HEADER_LENGTH_WITH_COMPRESSION);
        h.put(HEADER_COMPRESSION_TYPE, (byte) compressionType);
        int pos = HEADER_LENGTH_WITH_COMPRESSION;
        if (format != null) {
            h.putInt(pos, EXT_BACKING_FORMAT);
            h.putInt(pos + 4, format.length);
            h.put(pos + 8, format);
            pos += 8 + padded(format.length);
        }
        h.putInt(pos, EXT_END);
        h.putInt(pos + 4, 0);
        h.put(nameOffset, name);
        return h;
    }

    private static int padded(int length) {
        return (length + 7) & ~7;
    }
}
