package io.extentflow.engine.checksum;

import io.extentflow.engine.copy.CopyObserver;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The blkhash of an image computed from pieces that arrive in any order, as a copy moves them (see
 * {@link CopyObserver}): the checksum of the source costs no second read.
 *
 * <p>A piece that covers a whole block is hashed at once; pieces of a block that arrive separately
 * are gathered in a block buffer (allocated only for blocks that mix pieces, so memory is bounded by
 * the copy's requests in flight). Block digests are fed to the image hash in block order as soon as
 * every block before them is done.
 */
public final class StreamingBlockHash implements CopyObserver {

    private final BlockHash hash;
    private final long size;
    private final int blockSize;
    private final Map<Long, Partial> partial = new HashMap<>();
    private final TreeMap<Long, byte[]> ready = new TreeMap<>();
    private long next;

    /** Gathers pieces of one block until it is whole. */
    private static final class Partial {
        ByteBuffer bytes;
        long covered;
    }

    /** The blkhash of an image of {@code size} bytes with {@code algorithm} over {@code blockSize} blocks. */
    public StreamingBlockHash(String algorithm, int blockSize, long size) {
        this.hash = new BlockHash(algorithm, blockSize);
        this.size = size;
        this.blockSize = blockSize;
    }

    @Override
    public void data(long offset, ByteBuffer bytes) {
        piece(offset, bytes.remaining(), bytes);
    }

    @Override
    public void zero(long offset, long length) {
        piece(offset, length, null);
    }

    private void piece(long offset, long length, ByteBuffer bytes) {
        long end = offset + length;
        long pos = offset;
        while (pos < end) {
            long block = pos / blockSize;
            long blockStart = block * blockSize;
            int blockLength = (int) Math.min(blockSize, size - blockStart);
            long pieceEnd = Math.min(end, blockStart + blockLength);
            int n = (int) (pieceEnd - pos);
            ByteBuffer slice = bytes == null ? null : bytes.slice((int) (pos - offset), n);
            if (n == blockLength) {
                done(block, slice == null ? hash.zeroDigest(blockLength) : hash.digest(slice));
            } else {
                gather(block, blockStart, blockLength, pos, slice, n);
            }
            pos = pieceEnd;
        }
    }

    private void gather(long block, long blockStart, int blockLength, long pos, ByteBuffer slice, int n) {
        byte[] digest = null;
        synchronized (partial) {
            Partial p = partial.computeIfAbsent(block, b -> new Partial());
            if (slice != null) {
                if (p.bytes == null) {
                    p.bytes = ByteBuffer.allocate(blockLength); // zeros until data lands
                }
                p.bytes.put((int) (pos - blockStart), slice, 0, n);
            }
            p.covered += n;
            if (p.covered == blockLength) {
                partial.remove(block);
                digest = p.bytes == null ? null : hash.digest(p.bytes.clear());
                if (digest == null) {
                    digest = hash.zeroDigest(blockLength);
                }
            }
        }
        if (digest != null) {
            done(block, digest);
        }
    }

    private void done(long block, byte[] digest) {
        synchronized (ready) {
            ready.put(block, digest);
            for (byte[] d = ready.remove(next); d != null; d = ready.remove(next)) {
                hash.addDigest(d);
                next++;
            }
        }
    }

    /** The checksum in lower-case hex; every byte of the image must have been seen. */
    public String hexDigest() {
        synchronized (ready) {
            long blocks = (size + blockSize - 1) / blockSize;
            if (next != blocks) {
                throw new IllegalStateException("checksum incomplete: block " + next + " of " + blocks + " not seen");
            }
            return hash.hexDigest();
        }
    }
}
