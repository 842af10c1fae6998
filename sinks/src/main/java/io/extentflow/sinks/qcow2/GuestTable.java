package io.extentflow.sinks.qcow2;

import io.extentflow.engine.qcow2.Qcow2Format;

/**
 * The L1 and L2 tables of a qcow2 image being written, held in memory until the image is finished,
 * and the {@link HostSpace} their clusters come from. Thread-safe: writes arrive concurrently, and
 * two requests for parts of one guest cluster must agree on its host cluster, so every lookup and
 * allocation happens under one lock. The lock guards arithmetic only, never I/O.
 *
 * <p>Memory: one {@code long} per guest cluster of each L2 table in use (what qemu keeps on disk),
 * allocated when a table's range is first written.
 */
final class GuestTable {

    private final int clusterBits;
    private final int l2Bits;
    private final long[][] l2;
    private final long[] l2Offsets;
    private final HostSpace space;

    /**
     * @param clusterBits log2 of the cluster size
     * @param l1Size      entries of the L1 table
     * @param firstFree   host offset of the first cluster after the header and L1 table
     */
    GuestTable(int clusterBits, int l1Size, long firstFree) {
        this.clusterBits = clusterBits;
        this.l2Bits = clusterBits - 3;
        this.l2 = new long[l1Size][];
        this.l2Offsets = new long[l1Size];
        this.space = new HostSpace(clusterBits, firstFree);
    }

    /**
     * The host offsets of guest clusters {@code first .. first + count - 1}, allocating those that
     * have none yet; clusters allocated together are contiguous.
     */
    synchronized long[] allocate(long first, int count) {
        long[] hosts = new long[count];
        int i = 0;
        while (i < count) {
            long entry = entry(first + i);
            if ((entry & Qcow2Format.OFFSET_MASK) != 0 && (entry & Qcow2Format.COMPRESSED) == 0) {
                hosts[i] = entry & Qcow2Format.OFFSET_MASK;
                i++;
                continue;
            }
            int run = 1;
            while (i + run < count && entry(first + i + run) == 0) {
                run++;
            }
            for (int k = 0; k < run; k++) {
                table(first + i + k);
            }
            long host = space.clusters(run);
            for (int k = 0; k < run; k++) {
                hosts[i + k] = host + ((long) k << clusterBits);
                set(first + i + k, hosts[i + k] | Qcow2Format.COPIED);
            }
            i += run;
        }
        return hosts;
    }

    /** Allocates {@code length} bytes of compressed data for guest cluster {@code cluster}; returns their host offset. */
    synchronized long allocateCompressed(long cluster, int length) {
        table(cluster);
        long at = space.compressed(length);
        set(cluster, space.compressedDescriptor(at, length));
        return at;
    }

    /** Makes guest cluster {@code cluster} read as zeros without reading the backing file. */
    synchronized void markZero(long cluster) {
        table(cluster);
        if (entry(cluster) == 0) {
            set(cluster, Qcow2Format.ZERO_FLAG);
        }
    }

    /** True if guest cluster {@code cluster} has host data (plain or compressed). */
    synchronized boolean hasData(long cluster) {
        long entry = entry(cluster);
        return (entry & Qcow2Format.COMPRESSED) != 0 || (entry & Qcow2Format.OFFSET_MASK) != 0;
    }

    /** The space the tables allocate from, for the structures written at the end. */
    synchronized HostSpace space() {
        return space;
    }

    /** Entries of the L1 table. */
    int l1Size() {
        return l2.length;
    }

    /** Host offset of the L2 table of L1 entry {@code index} once placed ({@link #placeTables}), or 0 if that range has none. */
    synchronized long l2Offset(int index) {
        return l2Offsets[index];
    }

    /** The entries of the L2 table of L1 entry {@code index}, or null if that range has none. */
    synchronized long[] l2Entries(int index) {
        return l2[index];
    }

    private long entry(long cluster) {
        long[] t = l2[(int) (cluster >>> l2Bits)];
        return t == null ? 0 : t[(int) (cluster & ((1L << l2Bits) - 1))];
    }

    private void set(long cluster, long value) {
        l2[(int) (cluster >>> l2Bits)][(int) (cluster & ((1L << l2Bits) - 1))] = value;
    }

    /**
     * Gives every L2 table in use its host cluster, one after the other at the end of the file, and
     * returns the offset of the first (the end of the file if there is none). Called once, when the
     * image is finished: the tables then lie together, so their writing and syncing is a few large
     * writes, and the data clusters allocated before them lie together too.
     */
    synchronized long placeTables() {
        int count = 0;
        for (long[] t : l2) {
            count += t == null ? 0 : 1;
        }
        long first = space.clusters(count);
        long at = first;
        for (int i = 0; i < l2.length; i++) {
            if (l2[i] != null) {
                l2Offsets[i] = at;
                at += 1L << clusterBits;
            }
        }
        return first;
    }

    /** The L2 table covering {@code cluster}, made (in memory) when missing; its host cluster comes at the end ({@link #placeTables}). */
    private long[] table(long cluster) {
        int index = (int) (cluster >>> l2Bits);
        long[] t = l2[index];
        if (t == null) {
            t = new long[1 << l2Bits];
            l2[index] = t;
        }
        return t;
    }
}
