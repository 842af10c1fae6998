package io.extentflow.sources.qcow2;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.capability.CachedReads;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link CachedReads} for a qcow2 chain: the guest bytes of a range as far as they can be had without
 * waiting for the disk. Plain data clusters (in any layer, and a raw backing file's bytes) are copied
 * from the page cache with {@code preadv2(RWF_NOWAIT)}; zero and unallocated clusters need no I/O and
 * are filled with zeros. The read stops at the first byte that needs more: data not cached, a
 * compressed cluster (decompressing is for the file I/O threads, and its data may not be cached), or
 * a range whose L2 tables are not in memory (loading one is a read).
 *
 * <p>Why: the NBD server serves what this returns on its event loop, and only the rest on the file
 * I/O scheduler; a hand-off there and back for every READ cost a qcow2 server more CPU than the
 * copying itself (docs/architecture.md, "The NBD server").
 */
final class CachedChainReads implements CachedReads {

    private final Qcow2Chain chain;
    private final long size;
    /** Guest bytes resolved at a time, so that an L2 table not in memory stops the read only there. */
    private final long step;

    CachedChainReads(Qcow2Chain chain, long size) {
        this.chain = chain;
        this.size = size;
        this.step = chain.lookupStep();
    }

    @Override
    public int readCached(long offset, ByteBuffer target) {
        int length = target.remaining();
        if (!target.isDirect() || !ImageIoException.fits(offset, length, size)) {
            return 0; // data could not be read into a heap buffer, so nothing is
        }
        int base = target.position();
        int done = 0;
        List<ChainRun> runs = new ArrayList<>();
        while (done < length) {
            long from = offset + done;
            long to = offset + length;
            if (step < to) {
                to = Math.min(to, (from / step + 1) * step); // the next multiple of step, which does not overflow
            }
            runs.clear();
            try {
                chain.resolveReadable(from, to, runs);
            } catch (IOException | RuntimeException e) {
                break; // WouldBlock (metadata to load), or corrupt: the ordinary read does it, or reports it
            }
            int before = done;
            done += readRuns(runs, offset, target, base);
            if (done - before < to - from) {
                break;
            }
        }
        target.position(base + done);
        return done;
    }

    /** Reads the runs (from {@code offset + done} on, in order) into {@code target} until one is not all there. */
    private int readRuns(List<ChainRun> runs, long offset, ByteBuffer target, int base) {
        int read = 0;
        for (ChainRun cr : runs) {
            LayerRun r = cr.run();
            int n = (int) r.length();
            ByteBuffer piece = target.slice(base + (int) (r.start() - offset), n);
            int got = switch (r.kind()) {
                case DATA -> chain.layers().get(cr.depth()).readCached(r.host(), piece);
                case ZERO, SPARSE_DATA, UNALLOCATED -> {
                    MemorySegment.ofBuffer(piece).fill((byte) 0);
                    yield n;
                }
                case COMPRESSED -> 0;
            };
            read += got;
            if (got < n) {
                break;
            }
        }
        return read;
    }
}
