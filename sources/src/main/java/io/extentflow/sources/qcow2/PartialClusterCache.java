package io.extentflow.sources.qcow2;

import java.util.LinkedHashMap;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * Decompressed clusters that a request needed only part of, so the request for the rest (often
 * the next one, often running at the same time) copies from them instead of decompressing again.
 * An entry is a cached {@link Mono}: a second request joins a decompression still in progress.
 * Bounded by bytes; least recently used entries are dropped first.
 */
final class PartialClusterCache {

    /** Default bound: eight 2 MiB clusters, or 256 of 64 KiB. */
    static final long DEFAULT_BYTES = 16L << 20;

    /** A compressed cluster: the layer (by depth) and the host offset of its data. */
    record Key(int depth, long host) {
    }

    private final long maxBytes;
    private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;

    private record Entry(Mono<byte[]> cluster, int size) {
    }

    PartialClusterCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** The cluster for {@code key} (decompressed or on its way), or null. */
    synchronized Mono<byte[]> get(Key key) {
        Entry e = entries.get(key);
        return e == null ? null : e.cluster();
    }

    /**
     * Adds {@code cluster} (of {@code size} bytes once decompressed) unless another request added
     * one first; returns the one to use.
     */
    synchronized Mono<byte[]> putIfAbsent(Key key, Mono<byte[]> cluster, int size) {
        Entry existing = entries.get(key);
        if (existing != null) {
            return existing.cluster();
        }
        entries.put(key, new Entry(cluster, size));
        bytes += size;
        var it = entries.entrySet().iterator();
        while (bytes > maxBytes && entries.size() > 1 && it.hasNext()) {
            Map.Entry<Key, Entry> eldest = it.next();
            bytes -= eldest.getValue().size();
            it.remove();
        }
        return cluster;
    }
}
