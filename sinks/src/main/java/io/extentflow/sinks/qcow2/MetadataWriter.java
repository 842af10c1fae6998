package io.extentflow.sinks.qcow2;

import io.extentflow.engine.qcow2.Qcow2Format;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Writes the metadata of a finished qcow2 image from its {@link GuestTable}: the L2 tables, the L1
 * table, and then refcount blocks and the refcount table appended at the end of the file, sized so
 * that they count every cluster including themselves. Every used cluster has refcount 1 (more for a
 * cluster shared by compressed clusters) and nothing is left unreferenced. Blocking: file I/O.
 */
final class MetadataWriter {

    /** Where the refcount table went. */
    record RefcountTable(long offset, int clusters) {
    }

    private final FileChannel channel;
    private final int clusterBits;
    private final int clusterSize;

    MetadataWriter(FileChannel channel, int clusterBits) {
        this.channel = channel;
        this.clusterBits = clusterBits;
        this.clusterSize = 1 << clusterBits;
    }

    /**
     * Writes every L2 table in use, placed together at the end of the file ({@link GuestTable#placeTables}),
     * in writes of up to {@link #BATCH} bytes, and the L1 table at {@code l1Offset}.
     */
    void writeTables(GuestTable table, long l1Offset) throws IOException {
        ByteBuffer l1 = ByteBuffer.allocate(table.l1Size() * 8);
        Batch l2s = new Batch(table.placeTables());
        for (int i = 0; i < table.l1Size(); i++) {
            long[] entries = table.l2Entries(i);
            if (entries == null) {
                l1.putLong(0);
                continue;
            }
            ByteBuffer l2 = l2s.next();
            for (long e : entries) {
                l2.putLong(e);
            }
            l1.putLong(table.l2Offset(i) | Qcow2Format.COPIED);
        }
        l2s.write();
        writeFully(l1.flip(), l1Offset);
    }

    /**
     * Appends the refcount blocks and the refcount table after everything allocated so far. Their
     * own clusters count too: the sizes are found as the fixed point of "blocks for all clusters,
     * table for all blocks".
     */
    RefcountTable writeRefcounts(HostSpace space) throws IOException {
        long entriesPerBlock = clusterSize / 2; // 16-bit refcounts
        long entriesPerTableCluster = clusterSize / 8;
        RefcountSize sizes = refcountSize(space.end() >>> clusterBits, clusterBits);
        long blocks = sizes.blocks();
        long tableClusters = sizes.tableClusters();
        long firstBlock = space.clusters(blocks);
        long tableOffset = space.clusters(tableClusters);
        Batch out = new Batch(firstBlock); // the blocks, then the table right after them
        for (long b = 0; b < blocks; b++) {
            ByteBuffer block = out.next();
            long firstCluster = b * entriesPerBlock;
            for (long c = firstCluster; c < firstCluster + entriesPerBlock; c++) {
                block.putShort((short) space.refcount(c));
            }
        }
        for (long t = 0; t < tableClusters; t++) {
            ByteBuffer tableCluster = out.next();
            for (long b = t * entriesPerTableCluster; b < (t + 1) * entriesPerTableCluster; b++) {
                tableCluster.putLong(b < blocks ? firstBlock + (b << clusterBits) : 0);
            }
        }
        out.write();
        return new RefcountTable(tableOffset, (int) tableClusters);
    }

    /** How many clusters the refcount blocks and the refcount table take. */
    record RefcountSize(long blocks, long tableClusters) {
    }

    /**
     * The refcount blocks and table that count {@code used} clusters and themselves (16-bit
     * refcounts): the fixed point of "blocks for all clusters, table for all blocks".
     */
    static RefcountSize refcountSize(long used, int clusterBits) throws IOException {
        long entriesPerBlock = (1L << clusterBits) / 2;
        long entriesPerTableCluster = (1L << clusterBits) / 8;
        long blocks = 0;
        long tableClusters = 0;
        while (true) {
            long total = used + blocks + tableClusters;
            long needBlocks = ceilDiv(total, entriesPerBlock);
            long needTable = ceilDiv(needBlocks, entriesPerTableCluster);
            if (needBlocks == blocks && needTable == tableClusters) {
                break;
            }
            blocks = needBlocks;
            tableClusters = needTable;
        }
        if (tableClusters > Integer.MAX_VALUE) {
            throw new IOException("refcount table of " + tableClusters + " clusters is too large");
        }
        return new RefcountSize(blocks, tableClusters);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** Most bytes of metadata clusters written at once: few writes, each a sync on a synchronous channel. */
    static final int BATCH = 4 << 20;

    /** Consecutive clusters from a host offset on, gathered into writes of up to {@link #BATCH} bytes. */
    private final class Batch {
        private final ByteBuffer buffer = ByteBuffer.allocate(Math.max(clusterSize, BATCH - BATCH % clusterSize));
        private long at;

        Batch(long at) {
            this.at = at;
        }

        /** The next cluster: a view of one cluster to fill. */
        ByteBuffer next() throws IOException {
            if (!buffer.hasRemaining()) {
                write();
            }
            ByteBuffer cluster = buffer.slice(buffer.position(), clusterSize);
            buffer.position(buffer.position() + clusterSize);
            return cluster;
        }

        /** Writes the clusters gathered so far. */
        void write() throws IOException {
            int n = buffer.position();
            if (n > 0) {
                writeFully(buffer.flip(), at);
                at += n;
                buffer.clear();
            }
        }
    }

    void writeFully(ByteBuffer data, long offset) throws IOException {
        long pos = offset;
        while (data.hasRemaining()) {
            pos += channel.write(data, pos);
        }
    }
}
