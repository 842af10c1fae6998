package io.extentflow.engine.checksum;

import io.extentflow.engine.ForwardingImageSource;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.NullSink;
import java.util.LinkedHashMap;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * The blkhash checksum of an image, as ovirt-imageio's server computes it, from any source.
 *
 * <p>It is a copy into a {@link NullSink} whose {@link StreamingBlockHash} observer hashes what the
 * copy reads: blocks that are zero by the extents are never read, data is read with the copy's
 * concurrency (several requests in flight, blocks hashed in parallel on the I/O threads that read
 * them) and within the copy's memory bound ({@link CopyOptions#maxInFlight()}).
 */
public final class ImageChecksum {

    /** Smallest and largest block size the imageio API accepts. */
    public static final int MIN_BLOCK_SIZE = 1 << 20;
    public static final int MAX_BLOCK_SIZE = 16 << 20;

    private ImageChecksum() {
    }

    /**
     * The checksum of the first {@code length} bytes of {@code source}, read with the copy's default
     * options.
     *
     * @return {@code {"algorithm": ..., "block_size": ..., "checksum": "<hex>"}} as imageio replies
     */
    public static Mono<Map<String, Object>> compute(ImageSource source, long length, String algorithm, int blockSize) {
        return compute(source, length, algorithm, blockSize, CopyOptions.defaults());
    }

    /**
     * As {@link #compute(ImageSource, long, String, int)}, reading as {@code options} say (request
     * size and bytes in flight). Zero detection is off whatever they say: a block of data that reads
     * as zeros hashes the same either way, and finding it costs a scan. An automatic request size
     * becomes the block size, so that every request is hashed whole where it is read.
     */
    public static Mono<Map<String, Object>> compute(ImageSource source, long length, String algorithm, int blockSize,
                                                    CopyOptions options) {
        return Mono.defer(() -> {
            if (length < 0 || length > source.size()) {
                return Mono.error(new IllegalArgumentException("checksum of " + length + " bytes of an image of "
                        + source.size()));
            }
            StreamingBlockHash hash = new StreamingBlockHash(algorithm, blockSize, length);
            CopyOptions reading = options.withDetectZeroes(false).withFlush(false);
            if (reading.requestSize() == CopyOptions.AUTOMATIC_REQUEST_SIZE) {
                reading = reading.withRequestSize(blockSize);
            }
            ImageSource image = length == source.size() ? source : new Prefix(source, length);
            return Copy.from(image).to(new NullSink(length)).options(reading).observe(hash).run()
                    .then(Mono.fromSupplier(() -> {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("algorithm", algorithm);
                        m.put("block_size", blockSize);
                        m.put("checksum", hash.hexDigest());
                        return m;
                    }));
        });
    }

    /** The first {@code size} bytes of an image (an imageio ticket smaller than its file); the copy never closes it. */
    private record Prefix(ImageSource delegate, long size) implements ForwardingImageSource {
    }
}
