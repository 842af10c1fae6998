package io.extentflow.sources.qcow2;

import io.extentflow.engine.extent.Mergeable;

/**
 * A guest range of one layer of a chain with one status.
 *
 * @param start  guest offset
 * @param length bytes
 * @param kind   what the layer holds there
 * @param host   host offset in the layer's file of the byte at {@code start} (for {@link Kind#COMPRESSED}
 *               the offset of the compressed data), or -1 when the layer has none
 * @param compressedLength for {@link Kind#COMPRESSED}: upper bound of the compressed bytes; else 0
 */
record LayerRun(long start, long length, Kind kind, long host, int compressedLength)
        implements Mergeable<LayerRun> {

    /** The status of a range in one layer. */
    enum Kind {
        /** Plain data at {@code host}. */
        DATA,
        /**
         * A standard cluster whose host range is a hole in the file, so it reads as zeros. Reported
         * only for images qemu takes as metadata-preallocated (see {@link MetadataPreallocation}),
         * where {@code qemu-img map} asks the file too.
         */
        SPARSE_DATA,
        /** One compressed cluster (never merged with another). */
        COMPRESSED,
        /** Reads as zeros; the backing file is not consulted. */
        ZERO,
        /** Not allocated in this layer: the backing file answers, or zeros without one. */
        UNALLOCATED
    }

    long end() {
        return start + length;
    }

    /** The part {@code [from, to)} of this run; the host offset moves with the start (not for compressed runs). */
    LayerRun slice(long from, long to) {
        long h = host < 0 || kind == Kind.COMPRESSED ? host : host + (from - start);
        return new LayerRun(from, to - from, kind, h, compressedLength);
    }

    /** True if {@code next} continues this run: same kind, adjacent, and contiguous on the host (or both hostless). */
    @Override
    public boolean continuedBy(LayerRun next) {
        if (kind != next.kind || kind == Kind.COMPRESSED || end() != next.start) {
            return false;
        }
        if (host < 0 || next.host < 0) {
            return host < 0 && next.host < 0;
        }
        return host + length == next.host;
    }

    /** This run grown by {@code next}'s length (never a compressed run, so no compressed length). */
    @Override
    public LayerRun mergedWith(LayerRun next) {
        return new LayerRun(start, length + next.length, kind, host, 0);
    }
}
