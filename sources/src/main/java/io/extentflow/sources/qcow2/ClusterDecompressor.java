package io.extentflow.sources.qcow2;

import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import com.github.luben.zstd.util.Native;
import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Decompresses one qcow2 compressed cluster: raw deflate (compression type 0, "zlib") or zstd (type
 * 1). The stored data may be followed by unrelated bytes up to the sector end (the next compressed
 * cluster may share it), so both decoders stop once a whole cluster is produced. Pure CPU: runs on
 * parallel threads.
 */
enum ClusterDecompressor {

    DEFLATE {
        @Override
        int decompress(byte[] src, int srcOffset, int srcLength, byte[] dst, int clusterSize) throws DataFormatException {
            Inflater inflater = INFLATERS.get();
            inflater.reset();
            // srcLength leaves one spare byte: nowrap inflate may ask for one past the stream
            inflater.setInput(src, srcOffset, srcLength);
            int produced = 0;
            while (produced < clusterSize) {
                int n = inflater.inflate(dst, produced, clusterSize - produced);
                if (n == 0) {
                    break; // finished, or out of input: the caller checks that the cluster is full
                }
                produced += n;
            }
            return produced;
        }
    },

    ZSTD {
        @Override
        int decompress(byte[] src, int srcOffset, int srcLength, byte[] dst, int clusterSize) {
            try {
                ZstdDecompressCtx ctx = ZSTD_CONTEXTS.get();
                ctx.reset();
                ByteBuffer in = ByteBuffer.wrap(src, srcOffset, srcLength);
                ByteBuffer out = ByteBuffer.wrap(dst, 0, clusterSize);
                // qemu may write several frames; keep going until the cluster is full or input stalls
                while (out.hasRemaining() && in.hasRemaining()) {
                    int before = in.position() + out.position();
                    ctx.decompressByteBufferStream(out, in);
                    if (in.position() + out.position() == before) {
                        break;
                    }
                }
                return out.position();
            } catch (ZstdException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }

        @Override
        void prepare() {
            // loads the native library (file I/O) now, on the opening thread, not on a parallel thread
            Native.load();
        }
    };

    /** One decoder per thread (parallel threads live long), reset before each cluster. */
    private static final ThreadLocal<Inflater> INFLATERS = ThreadLocal.withInitial(() -> new Inflater(true));
    private static final ThreadLocal<ZstdDecompressCtx> ZSTD_CONTEXTS = ThreadLocal.withInitial(ZstdDecompressCtx::new);

    /**
     * Decompresses {@code srcLength} bytes of {@code src} from {@code srcOffset} into {@code dst[0, clusterSize)}.
     *
     * @return bytes produced; less than {@code clusterSize} means the data is corrupt
     * @throws DataFormatException      deflate data is corrupt
     * @throws IllegalArgumentException zstd data is corrupt
     */
    abstract int decompress(byte[] src, int srcOffset, int srcLength, byte[] dst, int clusterSize) throws DataFormatException;

    /** Blocking set-up to do once before the first {@link #decompress} (on the file I/O scheduler). */
    void prepare() {
    }

    static ClusterDecompressor of(int compressionType) {
        return compressionType == 1 ? ZSTD : DEFLATE;
    }
}
