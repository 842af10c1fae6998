package io.extentflow.sources.qcow2;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bounded least-recently-used cache of decoded L2 tables, keyed by their host offset. Shared by
 * all requests on one image; the lock is held only for map access, never while reading a table.
 */
final class L2Cache {

    /** Default bytes of decoded tables kept per image: covers 32 GiB of guest space with 64 KiB clusters. */
    static final long DEFAULT_BYTES = 4L << 20;

    private final int maxTables;
    private final LinkedHashMap<Long, long[]> tables;

    /** @param tableBytes bytes of one table (a cluster) */
    L2Cache(long maxBytes, int tableBytes) {
        this.maxTables = (int) Math.max(2, maxBytes / tableBytes);
        this.tables = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, long[]> eldest) {
                return size() > maxTables;
            }
        };
    }

    /** The table at {@code hostOffset}, or null. */
    synchronized long[] get(long hostOffset) {
        return tables.get(hostOffset);
    }

    synchronized void put(long hostOffset, long[] table) {
        tables.put(hostOffset, table);
    }
}
