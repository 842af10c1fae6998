package io.extentflow.sinks.qcow2;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Guest clusters of a compressed image whose pieces arrive in separate requests (at extent edges,
 * around zero blocks, at request boundaries): a cluster is compressed whole, so its pieces are
 * gathered here until every byte of it has been written, zeroed or skipped.
 *
 * <p>Memory: one cluster buffer per cluster with pieces still missing. A copy covers the image in
 * order with a bounded number of requests in flight, so only the clusters those requests touch can
 * be incomplete at once.
 */
final class PartialClusters {

    /** What a piece of a cluster holds. */
    enum Piece { DATA, ZERO, HOLE }

    /** One cluster being gathered. Guarded by the map's lock on its key. */
    static final class Gathered {
        final byte[] bytes;
        int covered;
        boolean data;
        boolean zero;
        boolean hole;

        Gathered(int clusterSize) {
            bytes = new byte[clusterSize];
        }
    }

    private final ConcurrentHashMap<Long, Gathered> clusters = new ConcurrentHashMap<>();
    private final int clusterSize;

    PartialClusters(int clusterSize) {
        this.clusterSize = clusterSize;
    }

    /**
     * Adds a piece of {@code length} bytes at {@code at} within guest cluster {@code cluster}, whose
     * bytes inside the image number {@code span}. {@code data} holds the bytes of a DATA piece (its
     * position is left as it was). Returns the cluster once it is complete, else null.
     */
    Gathered add(long cluster, int span, int at, int length, Piece piece, ByteBuffer data) {
        Gathered[] done = new Gathered[1];
        clusters.compute(cluster, (key, g) -> {
            Gathered c = g != null ? g : new Gathered(clusterSize);
            switch (piece) {
                case DATA -> {
                    data.get(data.position(), c.bytes, at, length);
                    c.data = true;
                }
                case ZERO -> c.zero = true;
                case HOLE -> c.hole = true;
            }
            c.covered += length;
            if (c.covered >= span) {
                done[0] = c;
                return null;
            }
            return c;
        });
        return done[0];
    }

    /** Clusters still missing pieces. */
    int pending() {
        return clusters.size();
    }
}
