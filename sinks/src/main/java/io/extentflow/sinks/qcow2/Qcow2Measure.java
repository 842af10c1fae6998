package io.extentflow.sinks.qcow2;

import io.extentflow.engine.Extent;
import java.io.IOException;
import java.util.List;

/**
 * How large a qcow2 file an image needs, as {@code qemu-img measure -O qcow2} tells it: what a copy
 * of this content needs ({@code required}) and what an image whose every cluster holds data needs
 * ({@code fully-allocated}). A user creates a target of that size where the file must exist before
 * the copy, such as the file behind an imageio ticket.
 *
 * <p>{@code required} is the exact length of the file that the one-pass writer ({@link Qcow2StreamSink},
 * used for pipes and imageio tickets) emits for the same extent list and cluster size: both come from
 * one {@link StreamLayout}. qemu-img counts the metadata of a fully allocated image (every L2 table,
 * refcounts for the whole disk) and adds the data clusters, so its figure is never below this one for
 * the same data; this one has no slack beyond the last cluster.
 *
 * @param required       bytes of the file that a copy of the measured content into a new qcow2 writes
 * @param fullyAllocated bytes of the file when every guest cluster holds data
 */
public record Qcow2Measure(long required, long fullyAllocated) {

    /**
     * Measures an image of {@code size} bytes whose content {@code extents} describe (ascending and
     * contiguous from 0 to {@code size}, as a source gives them), laid out as {@code options} asks.
     * Compression and backing files are refused, as for the one-pass writer: a compressed image's size
     * is known only once compressed.
     *
     * @param endpoint the source, for messages
     * @throws IllegalArgumentException for compression, a backing file or an unknown size, in one line
     * @throws IOException              for an extent list that does not cover the image, or an image too
     *                                  large for the cluster size
     */
    public static Qcow2Measure of(String endpoint, long size, Qcow2SinkOptions options, List<Extent> extents)
            throws IOException {
        Qcow2StreamSink.refuseUnsupported(endpoint, size, options);
        int bits = options.clusterBits();
        long required = StreamLayout.of(endpoint, size, bits, extents).end();
        long full = size == 0 ? required
                : StreamLayout.of(endpoint, size, bits, List.of(Extent.data(0, size))).end();
        return new Qcow2Measure(required, full);
    }
}
