package io.extentflow.engine.checksum;

import io.extentflow.engine.io.ZeroBuffer;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * ovirt-imageio's "blkhash": the image is cut into consecutive blocks of {@code blockSize} bytes (the
 * last one may be shorter); each block is hashed on its own, and the result is the hash of the
 * concatenated block digests, with the same algorithm. BLAKE2b uses a 32-byte digest for both
 * levels; other algorithms their native size. A block that reads as zeros hashes to the digest of
 * zeros, computed once, so sparse images cost no reads.
 *
 * <p>Use: for each block in order, either {@link #block()} + {@link Block#update} + {@link Block#finish},
 * or {@link #zeroBlock(int)}; then {@link #hexDigest()}.
 */
public final class BlockHash {

    /** ovirt-imageio's default algorithm. */
    public static final String DEFAULT_ALGORITHM = "blake2b";
    /** ovirt-imageio's default block size: 4 MiB. */
    public static final int DEFAULT_BLOCK_SIZE = 4 << 20;
    /** BLAKE2 digest size in blkhash. */
    static final int BLAKE2_DIGEST = 32;
    /** Python names (as ovirt-imageio lists them) of the algorithms we offer, with their JDK names. */
    private static final Map<String, String> JDK_NAMES = Map.of(
            "md5", "MD5", "sha1", "SHA-1", "sha224", "SHA-224", "sha256", "SHA-256", "sha384", "SHA-384",
            "sha512", "SHA-512", "sha3_256", "SHA3-256", "sha3_512", "SHA3-512");
    private static final ByteBuffer ZEROS = ZeroBuffer.of(1 << 20);

    private final String algorithm;
    private final int blockSize;
    private final Hasher outer;
    private byte[] zeroBlockDigest;

    /** A blkhash of {@code algorithm} (see {@link #algorithms()}) over blocks of {@code blockSize} bytes. */
    public BlockHash(String algorithm, int blockSize) {
        if (!algorithms().contains(algorithm)) {
            throw new IllegalArgumentException("unsupported checksum algorithm '" + algorithm + "'");
        }
        if (blockSize <= 0) {
            throw new IllegalArgumentException("block size must be positive");
        }
        this.algorithm = algorithm;
        this.blockSize = blockSize;
        this.outer = hasher(algorithm);
    }

    /** The algorithm names accepted, sorted. */
    public static List<String> algorithms() {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of("blake2b"), JDK_NAMES.keySet().stream())
                .sorted().toList();
    }

    public String algorithm() {
        return algorithm;
    }

    public int blockSize() {
        return blockSize;
    }

    /** Starts hashing the next data block. */
    public Block block() {
        return new Block(hasher(algorithm));
    }

    /** Adds a block of {@code length} bytes that reads as zeros. */
    public void zeroBlock(int length) {
        addDigest(zeroDigest(length));
    }

    private byte[] zerosDigest(int length) {
        Hasher h = hasher(algorithm);
        for (int left = length; left > 0; left -= ZEROS.capacity()) {
            h.update(ZEROS.duplicate().limit(Math.min(left, ZEROS.capacity())));
        }
        return h.digest();
    }

    /** The digest of one whole block's bytes (position to limit), for blocks hashed out of order. */
    public byte[] digest(ByteBuffer block) {
        Hasher h = hasher(algorithm);
        h.update(block.duplicate());
        return h.digest();
    }

    /** The digest of a block of {@code length} zeros. */
    public byte[] zeroDigest(int length) {
        synchronized (this) {
            if (length == blockSize) {
                if (zeroBlockDigest == null) {
                    zeroBlockDigest = zerosDigest(blockSize);
                }
                return zeroBlockDigest;
            }
        }
        return zerosDigest(length);
    }

    /** Adds the next block's digest (from {@link #digest} or {@link #zeroDigest}) to the image hash. */
    public void addDigest(byte[] digest) {
        outer.update(ByteBuffer.wrap(digest));
    }

    /** Finishes and returns the checksum in lower-case hex. */
    public String hexDigest() {
        return HexFormat.of().formatHex(outer.digest());
    }

    /** One data block being hashed; feed its bytes in order, then {@link #finish()}. */
    public final class Block {
        private final Hasher inner;

        private Block(Hasher inner) {
            this.inner = inner;
        }

        /** Adds the remaining bytes of {@code data}. */
        public void update(ByteBuffer data) {
            inner.update(data);
        }

        /** Adds this block's digest to the image hash. */
        public void finish() {
            outer.update(ByteBuffer.wrap(inner.digest()));
        }
    }

    /** The two kinds of hash behind one interface. */
    private interface Hasher {
        void update(ByteBuffer data);

        byte[] digest();
    }

    private static Hasher hasher(String algorithm) {
        if (algorithm.equals("blake2b")) {
            Blake2b b = new Blake2b(BLAKE2_DIGEST);
            return new Hasher() {
                @Override
                public void update(ByteBuffer data) {
                    b.update(data);
                }

                @Override
                public byte[] digest() {
                    return b.digest();
                }
            };
        }
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(JDK_NAMES.get(algorithm));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalArgumentException("checksum algorithm '" + algorithm + "' is not available", e);
        }
        return new Hasher() {
            @Override
            public void update(ByteBuffer data) {
                md.update(data);
            }

            @Override
            public byte[] digest() {
                return md.digest();
            }
        };
    }
}
