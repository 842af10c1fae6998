package io.extentflow.engine.qcow2;

/**
 * Facts of the qcow2 image format (qemu's {@code docs/interop/qcow2.txt}) shared by its reader and
 * its writer: magic, header field offsets, feature bits, header extension types and the bits of L1
 * and L2 entries. All integers in a qcow2 file are big-endian. Constants only.
 */
public final class Qcow2Format {

    private Qcow2Format() {
    }

    /** {@code QFI\xfb}, the first four bytes of every qcow2 file. */
    public static final int MAGIC = 0x514649fb;

    // header field offsets (version 2 fields, then the version 3 additions)
    public static final int HEADER_VERSION = 4;
    public static final int HEADER_BACKING_FILE_OFFSET = 8;
    public static final int HEADER_BACKING_FILE_SIZE = 16;
    public static final int HEADER_CLUSTER_BITS = 20;
    public static final int HEADER_SIZE = 24;
    public static final int HEADER_CRYPT_METHOD = 32;
    public static final int HEADER_L1_SIZE = 36;
    public static final int HEADER_L1_TABLE_OFFSET = 40;
    public static final int HEADER_REFCOUNT_TABLE_OFFSET = 48;
    public static final int HEADER_REFCOUNT_TABLE_CLUSTERS = 56;
    public static final int HEADER_NB_SNAPSHOTS = 60;
    public static final int HEADER_SNAPSHOTS_OFFSET = 64;
    public static final int HEADER_INCOMPATIBLE_FEATURES = 72;
    public static final int HEADER_COMPATIBLE_FEATURES = 80;
    public static final int HEADER_AUTOCLEAR_FEATURES = 88;
    public static final int HEADER_REFCOUNT_ORDER = 96;
    public static final int HEADER_LENGTH = 100;
    public static final int HEADER_COMPRESSION_TYPE = 104;

    /** Length of a version 2 header. */
    public static final int V2_HEADER_LENGTH = 72;
    /** Minimum length of a version 3 header. */
    public static final int V3_HEADER_LENGTH = 104;

    /** Incompatible feature bit 0: refcounts may be stale. */
    public static final long INCOMPAT_DIRTY = 1L;
    /** Incompatible feature bit 1: metadata may be inconsistent. */
    public static final long INCOMPAT_CORRUPT = 1L << 1;
    /** Incompatible feature bit 2: guest data lives in an external file. */
    public static final long INCOMPAT_DATA_FILE = 1L << 2;
    /** Incompatible feature bit 3: {@code compression_type} is set and not deflate. */
    public static final long INCOMPAT_COMPRESSION = 1L << 3;
    /** Incompatible feature bit 4: 128-bit L2 entries with subclusters. */
    public static final long INCOMPAT_EXTL2 = 1L << 4;

    /** {@code compression_type} 0: raw deflate, which qemu calls "zlib". */
    public static final int COMPRESSION_DEFLATE = 0;
    /** {@code compression_type} 1: zstd. */
    public static final int COMPRESSION_ZSTD = 1;
    /** The window qemu inflates with ({@code inflateInit2(-12)}): back-references reach at most 4 KiB. */
    public static final int DEFLATE_WINDOW = 1 << 12;

    /** Header extension: end of the list. */
    public static final int EXT_END = 0;
    /** Header extension: the backing file's format name. */
    public static final int EXT_BACKING_FORMAT = 0xE2792ACA;
    /** Header extension: names of feature bits. */
    public static final int EXT_FEATURE_NAMES = 0x6803F857;
    /** Header extension: the external data file name. */
    public static final int EXT_DATA_FILE = 0x44415441;
    /** Persistent dirty bitmaps: {@code nb_bitmaps}, reserved, directory size and offset. */
    public static final int EXT_BITMAPS = 0x23852875;

    /** Longest backing file name qemu accepts. */
    public static final int MAX_BACKING_NAME = 1023;
    /** qemu's limit for the L1 table ({@code QCOW_MAX_L1_SIZE}). */
    public static final long MAX_L1_BYTES = 32L << 20;
    /** Smallest and largest {@code cluster_bits} qemu opens. */
    public static final int MIN_CLUSTER_BITS = 9;
    public static final int MAX_CLUSTER_BITS = 21;

    /** Bit 63 of L1 and standard L2 entries: the referenced cluster has refcount exactly 1. */
    public static final long COPIED = 1L << 63;
    /** Bit 62 of an L2 entry: a compressed cluster. */
    public static final long COMPRESSED = 1L << 62;
    /** Bit 0 of a standard L2 entry (version 3): the cluster reads as zeros, the backing file is not read. */
    public static final long ZERO_FLAG = 1L;
    /** Bits 9-55 of an L1 entry or a standard L2 entry: the host offset. */
    public static final long OFFSET_MASK = 0x00FF_FFFF_FFFF_FE00L;
    /** Compressed data is addressed in sectors of this many bytes. */
    public static final int SECTOR = 512;

    /**
     * Bit where the sector count of a compressed L2 descriptor starts ({@code x} in the spec): the
     * host byte offset takes the bits below it.
     */
    public static int compressedSizeShift(int clusterBits) {
        return 62 - (clusterBits - 8);
    }
}
