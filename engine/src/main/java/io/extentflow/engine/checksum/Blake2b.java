package io.extentflow.engine.checksum;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * BLAKE2b (RFC 7693), unkeyed, with a digest of 1..64 bytes. The JDK has no BLAKE2; ovirt-imageio
 * checksums use BLAKE2b with a 32-byte digest (a different hash from a truncated 64-byte digest:
 * the digest size is part of the parameter block).
 *
 * <p>Not thread-safe; one instance per hash. {@link #digest()} finishes the hash.
 */
public final class Blake2b {

    private static final int BLOCK = 128;
    private static final long[] IV = {
        0x6a09e667f3bcc908L, 0xbb67ae8584caa73bL, 0x3c6ef372fe94f82bL, 0xa54ff53a5f1d36f1L,
        0x510e527fade682d1L, 0x9b05688c2b3e6c1fL, 0x1f83d9abfb41bd6bL, 0x5be0cd19137e2179L,
    };
    /** The message word permutation of each round (rounds 10 and 11 repeat rounds 0 and 1). */
    private static final byte[][] SIGMA = {
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
        {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
        {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
        {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
        {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
        {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
        {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
        {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
        {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
        {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
        {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    };

    private final int digestSize;
    private final long[] h = new long[8];
    private final long[] m = new long[16];
    private final long[] v = new long[16];
    /** The last block seen is kept here: it can only be compressed once we know whether it is the final one. */
    private final ByteBuffer pending = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
    private long counterLow;
    private long counterHigh;
    private boolean done;

    /** A hash with a digest of {@code digestSize} bytes (1..64). */
    public Blake2b(int digestSize) {
        if (digestSize < 1 || digestSize > 64) {
            throw new IllegalArgumentException("BLAKE2b digest size must be 1..64, got " + digestSize);
        }
        this.digestSize = digestSize;
        System.arraycopy(IV, 0, h, 0, 8);
        // parameter block: digest length, key length 0, fanout 1, depth 1
        h[0] ^= 0x01010000L ^ digestSize;
    }

    /** Digest size in bytes. */
    public int digestSize() {
        return digestSize;
    }

    /** Adds {@code data}'s remaining bytes; the position advances to the limit. */
    public Blake2b update(ByteBuffer data) {
        if (done) {
            throw new IllegalStateException("hash already finished");
        }
        ByteBuffer in = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            if (!pending.hasRemaining()) {
                // a full pending block with more input behind it: not the last one
                count(BLOCK);
                pending.flip();
                compress(pending, 0, false);
                pending.clear();
            }
            if (pending.position() == 0 && in.remaining() > BLOCK) {
                // fast path: whole blocks straight from the input, keeping the last one pending
                int p = in.position();
                while (in.limit() - p > BLOCK) {
                    count(BLOCK);
                    compress(in, p, false);
                    p += BLOCK;
                }
                in.position(p);
            }
            int n = Math.min(pending.remaining(), in.remaining());
            ByteBuffer part = in.duplicate();
            part.limit(part.position() + n);
            pending.put(part);
            in.position(in.position() + n);
        }
        data.position(data.limit());
        return this;
    }

    /** Adds bytes of an array. */
    public Blake2b update(byte[] bytes, int offset, int length) {
        return update(ByteBuffer.wrap(bytes, offset, length));
    }

    /** Adds all bytes of an array. */
    public Blake2b update(byte[] bytes) {
        return update(bytes, 0, bytes.length);
    }

    /** Finishes the hash and returns the digest. */
    public byte[] digest() {
        if (done) {
            throw new IllegalStateException("hash already finished");
        }
        done = true;
        int n = pending.position();
        count(n);
        while (pending.hasRemaining()) {
            pending.put((byte) 0);
        }
        pending.flip();
        compress(pending, 0, true);
        ByteBuffer out = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        for (long word : h) {
            out.putLong(word);
        }
        byte[] digest = new byte[digestSize];
        out.flip().get(digest);
        return digest;
    }

    /** The digest of {@code data} in one call. */
    public static byte[] hash(int digestSize, ByteBuffer data) {
        return new Blake2b(digestSize).update(data).digest();
    }

    private void count(int bytes) {
        long before = counterLow;
        counterLow += bytes;
        if (Long.compareUnsigned(counterLow, before) < 0) {
            counterHigh++;
        }
    }

    /** The compression function F over the 128-byte block at {@code at} (little-endian words). */
    private void compress(ByteBuffer block, int at, boolean last) {
        for (int i = 0; i < 16; i++) {
            m[i] = block.getLong(at + 8 * i);
        }
        System.arraycopy(h, 0, v, 0, 8);
        System.arraycopy(IV, 0, v, 8, 8);
        v[12] ^= counterLow;
        v[13] ^= counterHigh;
        if (last) {
            v[14] = ~v[14];
        }
        for (byte[] s : SIGMA) {
            mix(0, 4, 8, 12, m[s[0]], m[s[1]]);
            mix(1, 5, 9, 13, m[s[2]], m[s[3]]);
            mix(2, 6, 10, 14, m[s[4]], m[s[5]]);
            mix(3, 7, 11, 15, m[s[6]], m[s[7]]);
            mix(0, 5, 10, 15, m[s[8]], m[s[9]]);
            mix(1, 6, 11, 12, m[s[10]], m[s[11]]);
            mix(2, 7, 8, 13, m[s[12]], m[s[13]]);
            mix(3, 4, 9, 14, m[s[14]], m[s[15]]);
        }
        for (int i = 0; i < 8; i++) {
            h[i] ^= v[i] ^ v[i + 8];
        }
    }

    /** The mixing function G. */
    private void mix(int a, int b, int c, int d, long x, long y) {
        v[a] = v[a] + v[b] + x;
        v[d] = Long.rotateRight(v[d] ^ v[a], 32);
        v[c] = v[c] + v[d];
        v[b] = Long.rotateRight(v[b] ^ v[c], 24);
        v[a] = v[a] + v[b] + y;
        v[d] = Long.rotateRight(v[d] ^ v[a], 16);
        v[c] = v[c] + v[d];
        v[b] = Long.rotateRight(v[b] ^ v[c], 63);
    }
}
