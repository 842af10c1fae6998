package io.extentflow.cli;

import io.extentflow.engine.ImageSource;
import io.extentflow.engine.checksum.BlockHash;
import io.extentflow.engine.checksum.ImageChecksum;
import io.extentflow.engine.checksum.RemoteChecksum;
import io.extentflow.engine.checksum.StreamingBlockHash;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.endpoint.FormatOptions;
import io.extentflow.engine.endpoint.StreamAddress;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.sources.ChainOptions;
import reactor.core.publisher.Mono;

/**
 * {@code copy --verify}: the source's checksum is computed during the copy from the data it reads
 * anyway; afterwards the target is read back (or asked, when its imageio server computes checksums)
 * and the two must match.
 */
final class Verification {

    private final StreamingBlockHash sourceHash;
    private final long size;

    private Verification(long size) {
        this.size = size;
        this.sourceHash = new StreamingBlockHash(BlockHash.DEFAULT_ALGORITHM, BlockHash.DEFAULT_BLOCK_SIZE, size);
    }

    /** A verification of a copy from {@code source} to {@code target}, or a plain error if it cannot be done. */
    static Verification of(ImageSource source, String target, EndpointOptions options) {
        if (source.size() < 0) {
            throw new IllegalArgumentException("--verify needs a source of known size, not a stream");
        }
        if (StreamAddress.isStdio(target)) {
            throw new IllegalArgumentException("--verify needs a target it can read back, not standard output");
        }
        String format = options.get(FormatOptions.OUTPUT_FORMAT);
        if (format != null && !format.equals("raw") && !FileAddress.isFile(target)) {
            // a local qcow2 file reads back as its disk; an imageio ticket or a pipe gives the file's bytes
            throw new IllegalArgumentException("--verify reads " + target + " back as a disk, but it receives a "
                    + format + " file whose bytes are not the disk's; compare the file where it lies instead "
                    + "(qemu-img compare SOURCE FILE)");
        }
        if (options.get(ChainOptions.TOP_LAYER_ONLY)) {
            throw new IllegalArgumentException("--verify compares whole images; it cannot check a top layer alone");
        }
        return new Verification(source.size());
    }

    /** The observer to give the copy. */
    StreamingBlockHash observer() {
        return sourceHash;
    }

    /** Reads the target back and returns the common checksum; fails loudly when they differ. */
    String check(String target, EndpointOptions options) {
        String expected = sourceHash.hexDigest();
        // Read back by ranges (or asked for its checksum), never as one sparse stream: a stream is
        // read front to back, frame by frame, and the checksum's reads of whole blocks wait forever
        // for a frame that starts where they do (copy --http-stream --verify hung).
        ImageSource back = Endpoints.source(target, options.with(HttpOptions.HTTP_STREAM, false)).block();
        try (back) {
            Mono<String> readBack = Mono.defer(() -> ImageChecksum.compute(back, size, BlockHash.DEFAULT_ALGORITHM,
                    BlockHash.DEFAULT_BLOCK_SIZE).map(m -> (String) m.get("checksum")));
            String actual = (back instanceof RemoteChecksum remote
                    ? remote.remoteChecksum(BlockHash.DEFAULT_ALGORITHM, BlockHash.DEFAULT_BLOCK_SIZE)
                            .switchIfEmpty(readBack)
                    : readBack).block();
            if (!expected.equals(actual)) {
                throw new IllegalStateException("verification failed: the target's content differs from the source's "
                        + "(source blake2b " + expected + ", target " + actual + ")");
            }
        }
        return expected;
    }
}
