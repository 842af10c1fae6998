package io.extentflow.engine.checksum;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSource;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The blkhash checksum of an image, computed from a source as ovirt-imageio's server computes it:
 * blocks that are zero by the extents are never read; data blocks are read in pieces of at most
 * {@code bufferSize} bytes into one buffer, so memory stays at that buffer whatever the block size.
 */
public final class ImageChecksum {

    /** Smallest and largest block size the imageio API accepts. */
    public static final int MIN_BLOCK_SIZE = 1 << 20;
    public static final int MAX_BLOCK_SIZE = 16 << 20;

    private ImageChecksum() {
    }

    /**
     * The checksum of the first {@code length} bytes of {@code source}.
     *
     * @return {@code {"algorithm": ..., "block_size": ..., "checksum": "<hex>"}} as imageio replies
     */
    public static Mono<Map<String, Object>> compute(ImageSource source, long length, String algorithm, int blockSize,
                                                    int bufferSize) {
        return Mono.defer(() -> {
            BlockHash hash = new BlockHash(algorithm, blockSize);
            ByteBuffer buffer = ByteBuffer.allocateDirect(Math.min(bufferSize, blockSize));
            return blocks(source.extents(0, length), blockSize)
                    .concatMap(b -> b.zero() ? Mono.fromRunnable(() -> hash.zeroBlock((int) b.length()))
                            : hashBlock(source, hash, b, buffer), 1)
                    .then(Mono.fromSupplier(() -> {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("algorithm", algorithm);
                        m.put("block_size", blockSize);
                        m.put("checksum", hash.hexDigest());
                        return m;
                    }));
        });
    }

    private static Mono<Void> hashBlock(ImageSource source, BlockHash hash, Extent block, ByteBuffer buffer) {
        BlockHash.Block b = hash.block();
        long end = block.end();
        return Flux.<Long, Long>generate(block::start, (pos, sink) -> {
                    if (pos >= end) {
                        sink.complete();
                    } else {
                        sink.next(pos);
                    }
                    return pos + buffer.capacity();
                })
                .concatMap(pos -> {
                    buffer.clear().limit((int) Math.min(buffer.capacity(), end - pos));
                    return source.read(pos, buffer).then(Mono.fromRunnable(() -> b.update(buffer.flip())));
                }, 1)
                .then(Mono.fromRunnable(b::finish));
    }

    /**
     * The image cut into blocks of {@code blockSize} (the last may be shorter), each zero only if
     * every extent in it is zero: the blocks of ovirt-imageio's {@code blkhash.split}.
     */
    static Flux<Extent> blocks(Flux<Extent> extents, int blockSize) {
        return Flux.defer(() -> {
            long[] blockStart = {0};
            long[] filled = {0};
            boolean[] zero = {true};
            return extents.concatMapIterable(e -> {
                java.util.List<Extent> out = new java.util.ArrayList<>();
                long pos = e.start();
                while (pos < e.end()) {
                    if (filled[0] == 0) {
                        blockStart[0] = pos;
                        zero[0] = true;
                    }
                    long n = Math.min(blockSize - filled[0], e.end() - pos);
                    zero[0] &= e.zero();
                    filled[0] += n;
                    pos += n;
                    if (filled[0] == blockSize) {
                        out.add(new Extent(blockStart[0], blockSize, zero[0], false));
                        filled[0] = 0;
                    }
                }
                return out;
            }).concatWith(Mono.fromSupplier(() -> filled[0] == 0 ? null
                    : new Extent(blockStart[0], filled[0], zero[0], false)));
        });
    }
}
