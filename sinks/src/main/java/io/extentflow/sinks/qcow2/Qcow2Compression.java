package io.extentflow.sinks.qcow2;

/** How a qcow2 sink stores data clusters: as they are, or compressed with one of qcow2's two codecs. */
public enum Qcow2Compression {
    /** Data clusters are stored as they are. */
    NONE,
    /** Raw deflate ({@code compression_type} 0, which qemu calls "zlib"). */
    ZLIB,
    /** zstd ({@code compression_type} 1, with incompatible feature bit 3). */
    ZSTD
}
