package io.extentflow.sinks.qcow2;

import io.extentflow.engine.qcow2.Qcow2Format;
import java.util.Arrays;

/**
 * The host file of a qcow2 image being written, as a bump allocator: clusters are handed out from
 * the end of the file and never freed, so every cluster below {@link #end()} is in use. A cluster
 * holds one thing (header, L1, L2 table, refcount structure, plain data, with refcount 1) or parts
 * of one or more compressed clusters (refcount = how many of them it holds). Compressed data is
 * packed at byte offsets and may run on into the next host cluster when that one is new, as qemu
 * packs it.
 *
 * <p>Not thread-safe: {@link GuestTable} guards it with its lock. Pure arithmetic, no I/O.
 */
final class HostSpace {

    /** Largest refcount a 16-bit refcount entry holds. */
    static final int MAX_REFCOUNT = 0xFFFF;

    private final int clusterBits;
    private final long clusterSize;
    private long end;
    /** Where the next compressed data may start, or -1 when no cluster is being packed. */
    private long packAt = -1;
    /** End of the host clusters that {@link #packAt} may fill without allocating. */
    private long packLimit;
    /** For each host cluster, its refcount minus one (unsigned); null until compressed data shares a cluster. */
    private short[] extraRefs;

    HostSpace(int clusterBits, long firstFree) {
        this.clusterBits = clusterBits;
        this.clusterSize = 1L << clusterBits;
        this.end = firstFree;
    }

    /** The end of the allocated space: a multiple of the cluster size. */
    long end() {
        return end;
    }

    /** Allocates {@code count} contiguous clusters and returns the offset of the first. */
    long clusters(long count) {
        long start = end;
        end = Math.addExact(end, Math.multiplyExact(count, clusterSize));
        return start;
    }

    /**
     * Allocates {@code length} bytes (less than a cluster) for one compressed cluster and returns
     * their offset: after the previous compressed cluster when they fit in its host clusters, or run
     * on into new ones at the end of the file; else at the start of new clusters.
     */
    long compressed(int length) {
        long at;
        long oldLimit = packLimit;
        if (packAt >= 0 && length <= packLimit - packAt && refcountBelowMax(packAt, length)) {
            at = packAt;
        } else if (packAt >= 0 && packLimit == end && refcountBelowMax(packAt, length)) {
            at = packAt;
            clusters(clustersFor(packAt + length - end));
            packLimit = end;
        } else {
            at = end;
            clusters(clustersFor(length));
            packLimit = end;
        }
        // packLimit moves only with clusters allocated here: a plain cluster allocated since is not ours to fill
        long first = at >>> clusterBits;
        long last = (at + length - 1) >>> clusterBits;
        for (long c = first; c <= last; c++) {
            if (at < oldLimit && c < oldLimit >>> clusterBits) {
                addReference(c); // a cluster that already holds part of another compressed cluster
            }
        }
        packAt = at + length;
        return at;
    }

    /** True if the clusters that {@code [at, at + length)} would share can take one more reference. */
    private boolean refcountBelowMax(long at, int length) {
        long c = at >>> clusterBits;
        return extraRefs == null || c >= extraRefs.length || (extraRefs[(int) c] & 0xFFFF) + 1 < MAX_REFCOUNT;
    }

    private long clustersFor(long bytes) {
        return (bytes + clusterSize - 1) >>> clusterBits;
    }

    private void addReference(long cluster) {
        if (cluster > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("host cluster " + cluster + " is beyond what compressed packing tracks");
        }
        int i = (int) cluster;
        if (extraRefs == null) {
            extraRefs = new short[Math.max(1024, i + 1)];
        } else if (i >= extraRefs.length) {
            extraRefs = Arrays.copyOf(extraRefs, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(i + 1L, extraRefs.length * 2L)));
        }
        extraRefs[i]++;
    }

    /** The refcount of host cluster {@code cluster}: 1 for every cluster below the end, more if shared. */
    int refcount(long cluster) {
        if (cluster >= end >>> clusterBits) {
            return 0;
        }
        if (extraRefs == null || cluster >= extraRefs.length) {
            return 1;
        }
        return 1 + (extraRefs[(int) cluster] & 0xFFFF);
    }

    /** The L2 descriptor of a compressed cluster of {@code length} bytes at host byte {@code offset}. */
    long compressedDescriptor(long offset, int length) {
        int shift = Qcow2Format.compressedSizeShift(clusterBits);
        if (offset >= 1L << shift) {
            throw new IllegalStateException("compressed data at host offset " + offset + " is beyond what an L2 entry of "
                    + clusterSize + "-byte clusters can address");
        }
        long extraSectors = ((offset + length - 1) / Qcow2Format.SECTOR) - (offset / Qcow2Format.SECTOR);
        return Qcow2Format.COMPRESSED | (extraSectors << shift) | offset;
    }
}
