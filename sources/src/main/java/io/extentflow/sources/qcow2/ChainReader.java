package io.extentflow.sources.qcow2;

import io.extentflow.engine.io.BlockingIo;
import io.extentflow.sources.qcow2.LayerRun.Kind;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Reads guest bytes of a chain into a caller's buffer. Metadata lookups and positional reads run
 * on the file I/O scheduler: plain data straight into the buffer (one read per run of clusters
 * contiguous on the host), zeros filled in place, and the compressed data of neighbouring clusters
 * in one read. A compressed cluster the request covers whole is then decompressed on the same
 * thread, straight after the read, and its compressed bytes are dropped at once. A cluster a
 * request needs only part of is decompressed once on a parallel thread and kept for a while
 * ({@link PartialClusterCache}), so the requests for its other parts do not decompress it again.
 */
final class ChainReader {

    /** Compressed clusters closer than this on the host are fetched in one read. */
    private static final long COALESCE_GAP = 4096;
    /**
     * Upper bound of one coalesced compressed read (a single cluster's data may be longer): each
     * file I/O thread keeps a buffer of this size for its reads.
     */
    private static final long MAX_SPAN = 1L << 20;

    /** Each file I/O thread's decompression output, one cluster. */
    private static final ThreadLocal<byte[]> SCRATCH = new ThreadLocal<>();
    /** Each file I/O thread's compressed data, one span (reused: see {@link #readAndDecompress}). */
    private static final ThreadLocal<byte[]> SPAN = new ThreadLocal<>();

    private final Qcow2Chain chain;
    private final PartialClusterCache partials = new PartialClusterCache(PartialClusterCache.DEFAULT_BYTES);

    ChainReader(Qcow2Chain chain) {
        this.chain = chain;
    }

    /** Fills {@code target} from its position to its limit with guest bytes from {@code offset}; does not move the position. */
    Mono<Void> read(long offset, ByteBuffer target) {
        int base = target.position();
        int length = target.remaining();
        return BlockingIo.call(() -> readRuns(offset, length, target, base))
                .flatMap(clusters -> clusters.isEmpty() ? Mono.empty() : Flux.fromIterable(clusters)
                        .flatMap(c -> c.fill(target))
                        .then());
    }

    /** One piece of a compressed cluster wanted by the request. */
    private record Piece(int targetIndex, int inCluster, int length) {
    }

    /** A compressed cluster the request needs: the pieces it wants and where they come from. */
    private final class CompressedCluster {
        final Qcow2Layer layer;
        final PartialClusterCache.Key key;
        final int maxLength;
        final List<Piece> pieces = new ArrayList<>(1);
        /** Set when another request decompresses (or decompressed) this cluster for us. */
        Mono<byte[]> shared;
        byte[] data;
        int dataOffset;
        int dataLength;

        CompressedCluster(Qcow2Layer layer, int depth, long host, int maxLength) {
            this.layer = layer;
            this.key = new PartialClusterCache.Key(depth, host);
            this.maxLength = maxLength;
        }

        long host() {
            return key.host();
        }

        long end() {
            return host() + maxLength;
        }

        boolean partial() {
            return pieces.stream().mapToInt(Piece::length).sum() < layer.clusterSize();
        }

        /** Copies the wanted pieces of a cluster another request decompresses (or did) into {@code target}. */
        Mono<Void> fill(ByteBuffer target) {
            return shared.doOnNext(cluster -> copyPieces(cluster, target)).then();
        }

        /** Decompresses the cluster on this thread and copies the wanted pieces into {@code target}. */
        void decompressHere(ByteBuffer target) throws IOException {
            byte[] out = SCRATCH.get();
            if (out == null || out.length < layer.clusterSize()) {
                out = new byte[layer.clusterSize()];
                SCRATCH.set(out);
            }
            decompressInto(out);
            copyPieces(out, target);
            data = null;
        }

        /** A decompression other requests can join: into its own array, once. */
        Mono<byte[]> sharedDecompression() {
            return Mono.fromCallable(() -> {
                byte[] out = new byte[layer.clusterSize()];
                decompressInto(out);
                return out;
            }).subscribeOn(Schedulers.parallel()).cache();
        }

        private void decompressInto(byte[] out) throws IOException {
            int clusterSize = layer.clusterSize();
            int produced;
            try {
                produced = layer.decompressor().decompress(data, dataOffset, dataLength, out, clusterSize);
            } catch (DataFormatException | IllegalArgumentException e) {
                throw layer.corrupt("compressed cluster at host offset " + host() + " does not decompress: " + e.getMessage());
            }
            if (produced < clusterSize) {
                throw layer.corrupt("compressed cluster at host offset " + host() + " decompresses to " + produced
                        + " bytes, not a whole cluster of " + clusterSize);
            }
        }

        private void copyPieces(byte[] cluster, ByteBuffer target) {
            for (Piece p : pieces) {
                target.put(p.targetIndex(), cluster, p.inCluster(), p.length());
            }
        }
    }

    private List<CompressedCluster> readRuns(long offset, int length, ByteBuffer target, int base)
            throws IOException {
        List<ChainRun> runs = new ArrayList<>();
        chain.resolve(offset, offset + length, false, true, runs);
        Map<PartialClusterCache.Key, CompressedCluster> compressed = new LinkedHashMap<>();
        for (ChainRun cr : runs) {
            LayerRun r = cr.run();
            Layer layer = chain.layers().get(cr.depth());
            int at = base + (int) (r.start() - offset);
            int n = (int) r.length();
            switch (r.kind()) {
                case DATA -> layer.readHost(r.host(), target.slice(at, n));
                // holes in the file read as zeros; not reading them also keeps ext4 from reporting
                // their unwritten extents as data once cached
                case SPARSE_DATA, ZERO, UNALLOCATED -> MemorySegment.ofBuffer(target.slice(at, n)).fill((byte) 0);
                case COMPRESSED -> {
                    Qcow2Layer q = (Qcow2Layer) layer;
                    // the same cluster may be wanted twice (a backing cluster split by the overlay): one decompression
                    CompressedCluster c = compressed.computeIfAbsent(new PartialClusterCache.Key(cr.depth(), r.host()),
                            k -> new CompressedCluster(q, cr.depth(), r.host(), r.compressedLength()));
                    c.pieces.add(new Piece(at, (int) (r.start() & (q.clusterSize() - 1)), n));
                }
            }
        }
        if (compressed.isEmpty()) {
            return List.of();
        }
        List<CompressedCluster> toRead = new ArrayList<>();
        List<CompressedCluster> later = new ArrayList<>();
        for (CompressedCluster c : compressed.values()) {
            c.shared = c.partial() ? partials.get(c.key) : null;
            (c.shared == null ? toRead : later).add(c);
        }
        readAndDecompress(toRead, target, later);
        return later;
    }

    /**
     * Reads the data of every cluster, one read for each group of neighbours in the same file, into
     * this thread's span buffer. Clusters the request covers whole are decompressed into {@code
     * target} right there, group by group; the others get a copy of their own compressed bytes and
     * a shared decompression, and are added to {@code later}.
     *
     * <p>Why here and not on a parallel thread: compressed bytes that waited for one were alive
     * whenever the young generation filled (four file threads, each in the middle of a read of up to
     * a few MiB), were promoted, and grew the heap of a zlib copy by the bytes in flight
     * (perf/README.md, "Memory"). Read into a reused buffer and used at once, they make no garbage.
     */
    private void readAndDecompress(List<CompressedCluster> clusters, ByteBuffer target, List<CompressedCluster> later)
            throws IOException {
        List<CompressedCluster> sorted = new ArrayList<>(clusters);
        sorted.sort(Comparator.comparingInt((CompressedCluster c) -> c.key.depth()).thenComparingLong(c -> c.host()));
        int i = 0;
        while (i < sorted.size()) {
            CompressedCluster first = sorted.get(i);
            long spanEnd = first.end();
            int j = i + 1;
            while (j < sorted.size()) {
                CompressedCluster next = sorted.get(j);
                if (next.key.depth() != first.key.depth() || next.host() > spanEnd + COALESCE_GAP
                        || Math.max(spanEnd, next.end()) - first.host() > MAX_SPAN) {
                    break;
                }
                spanEnd = Math.max(spanEnd, next.end());
                j++;
            }
            byte[] span = first.layer.readSpan(first.host(), spanEnd, SPAN.get());
            SPAN.set(span);
            int spanLength = first.layer.spanLength(first.host(), spanEnd);
            for (int k = i; k < j; k++) {
                CompressedCluster c = sorted.get(k);
                int offset = (int) (c.host() - first.host());
                // one byte more than the cluster's data when the span has it: raw inflate's spare byte
                int length = Math.max(0, Math.min(c.maxLength + 1, spanLength - offset));
                if (c.partial()) {
                    c.data = Arrays.copyOfRange(span, offset, offset + length);
                    c.dataOffset = 0;
                    c.dataLength = length;
                    c.shared = partials.putIfAbsent(c.key, c.sharedDecompression(), c.layer.clusterSize());
                    later.add(c);
                } else {
                    c.data = span;
                    c.dataOffset = offset;
                    c.dataLength = length;
                    c.decompressHere(target);
                }
            }
            i = j;
        }
    }
}
