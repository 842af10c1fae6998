package io.extentflow.sinks.qcow2;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdException;
import com.github.luben.zstd.util.Native;
import io.extentflow.engine.qcow2.Qcow2Format;
import java.util.zip.Deflater;

/**
 * Compresses one qcow2 cluster as qemu's decoders read it. Pure CPU; one codec state per thread.
 *
 * <p>A result is useful only when it is shorter than the cluster (qemu keeps a cluster plain
 * otherwise), so every method is given {@code clusterSize - 1} bytes of output and reports -1 when
 * the data does not fit there.
 */
enum ClusterCompressor {

    /**
     * Raw deflate. qemu inflates with a 4 KiB window ({@code inflateInit2(-12)}) while the JDK's
     * deflater always uses 32 KiB and cannot be told otherwise: a back-reference further than 4 KiB
     * would be "too far back" for qemu. So the input goes in 4 KiB pieces with a full flush after
     * each, which resets the encoder: no reference crosses a piece, and every distance is under 4 KiB.
     */
    DEFLATE {
        @Override
        int compress(byte[] src, int length, byte[] dst, int dstLength) {
            Deflater deflater = DEFLATERS.get();
            deflater.reset();
            int produced = 0;
            for (int piece = 0; piece < length; piece += Qcow2Format.DEFLATE_WINDOW) {
                int n = Math.min(Qcow2Format.DEFLATE_WINDOW, length - piece);
                deflater.setInput(src, piece, n);
                boolean last = piece + n >= length;
                if (last) {
                    deflater.finish();
                }
                while (true) {
                    if (produced == dstLength) {
                        return -1; // out of room: the cluster does not shrink enough
                    }
                    int out = last ? deflater.deflate(dst, produced, dstLength - produced)
                            : deflater.deflate(dst, produced, dstLength - produced, Deflater.FULL_FLUSH);
                    produced += out;
                    if (last ? deflater.finished() : produced < dstLength && deflater.needsInput()) {
                        break;
                    }
                }
            }
            return produced;
        }
    },

    ZSTD {
        @Override
        int compress(byte[] src, int length, byte[] dst, int dstLength) {
            try {
                return ZSTD_CONTEXTS.get().compressByteArray(dst, 0, dstLength, src, 0, length);
            } catch (ZstdException e) {
                return -1; // destination too small: the cluster does not shrink
            }
        }

        @Override
        void prepare() {
            // loads the native library (file I/O) on the opening thread, not in the middle of a copy
            Native.load();
        }
    };

    private static final ThreadLocal<Deflater> DEFLATERS = ThreadLocal.withInitial(() -> new Deflater(Deflater.DEFAULT_COMPRESSION, true));
    /** qemu compresses with zstd's default level. */
    private static final ThreadLocal<ZstdCompressCtx> ZSTD_CONTEXTS = ThreadLocal.withInitial(
            () -> new ZstdCompressCtx().setLevel(3));

    /**
     * Compresses {@code src[0, length)} into {@code dst[0, dstLength)}.
     *
     * @return the compressed length, or -1 if it does not fit in {@code dstLength} bytes
     */
    abstract int compress(byte[] src, int length, byte[] dst, int dstLength);

    /** Blocking set-up to do once before the first {@link #compress}. */
    void prepare() {
    }

    /** The codec for {@code compression}, which must not be {@link Qcow2Compression#NONE}. */
    static ClusterCompressor of(Qcow2Compression compression) {
        return switch (compression) {
            case ZLIB -> DEFLATE;
            case ZSTD -> ZSTD;
            case NONE -> throw new IllegalArgumentException("no compressor for uncompressed images");
        };
    }
}
