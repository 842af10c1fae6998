package io.extentflow.engine.copy;

import io.extentflow.engine.Extent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Cuts a source's extents into a copy's requests: data at request-size boundaries of the image (so
 * reads and writes stay aligned), zeros in pieces of at most the sink's largest zero request, holes
 * (and zeros on a target known to be zero) as ranges to skip.
 *
 * <p><b>Gathering.</b> A fragmented image has many small data extents with small zeros between
 * them: {@code frag-4g.raw} has 32,768 data extents of 64 KiB and as many holes. One request per
 * extent cost the copy a pooled buffer, a read, a write and a pass through the pipeline each
 * (reactive operators, metrics, accounting), and over NBD a round trip each: profiles of such copies
 * showed the pipeline, not the bytes. So data extents that start within the same request-size unit
 * of the image are gathered, with the zeros and holes between them, into one data request that
 * carries its {@link Request#pieces() pieces}: one buffer and one pass for them all. The source reads
 * only the data pieces, or the whole range where that is cheaper
 * ({@link io.extentflow.engine.ImageSource#readPieces}); each data piece is then written as before
 * (and scanned for zeros), each zero piece becomes a zero request or a skip, each hole a skip, just
 * as if they had come one by one. Nothing about what the target receives changes, only how many
 * requests carry it. A zero or hole that reaches the end of its unit, or one alone, stays a request
 * of its own, so large zero ranges remain single cheap requests.
 *
 * <p>Not thread-safe: one planner per copy, fed in extent order.
 */
final class RequestPlanner {

    private final long requestSize;
    private final long maxZeroSize;
    private final boolean skipZeroes;
    private final boolean gather;
    /** The data pieces gathered so far in the current unit, with the gaps between them. */
    private final List<Extent> pending = new ArrayList<>();
    /** Zeros and holes after the last pending data piece, still inside its unit. */
    private final List<Extent> trailing = new ArrayList<>();
    /** The end of the unit of the pending pieces (meaningful only while there are some). */
    private long unitEnd;

    /**
     * @param requestSize the largest data request, and the unit within which pieces are gathered
     * @param maxZeroSize the largest zero request the sink takes
     * @param skipZeroes  the target reads as zeros already: zeros are skipped, not zeroed
     * @param gather      gather small extents; false for a source that gives its next extent only
     *                    once the previous ones are read ({@link io.extentflow.engine.ImageSource#sequential()}),
     *                    where holding an extent back to wait for the next would never end
     */
    RequestPlanner(long requestSize, long maxZeroSize, boolean skipZeroes, boolean gather) {
        if (requestSize <= 0 || maxZeroSize <= 0) {
            throw new IllegalArgumentException("request sizes must be positive: " + requestSize + ", " + maxZeroSize);
        }
        this.requestSize = requestSize;
        this.maxZeroSize = maxZeroSize;
        this.skipZeroes = skipZeroes;
        this.gather = gather;
    }

    /**
     * The requests that extent {@code e} completes, in order. With {@code dataUnit} larger than the
     * request size (an offloaded copy, whose data requests hold no buffer), data is cut at that unit
     * and nothing is gathered.
     *
     * <p>Most extents of a fragmented image complete no request (they join the pending unit), and
     * then the answer is the shared empty list: the copy iterates what this returns, and a fresh
     * {@code ArrayList} still cost its object and an iterator per extent.
     */
    List<Request> next(Extent e, long dataUnit) {
        List<Request> out = new ArrayList<>(0);
        if (dataUnit != requestSize || !gather) {
            flush(out);
            if (e.isData()) {
                cutData(e, dataUnit, out);
            } else {
                gap(e, out);
            }
            return out;
        }
        if (!e.isData()) {
            if (!pending.isEmpty() && e.end() < unitEnd) {
                trailing.add(e); // data may follow in the same unit
                return Collections.emptyList();
            }
            flush(out);
            gap(e, out);
            return out;
        }
        long off = e.start();
        while (off < e.end()) {
            long boundary = (off / requestSize + 1) * requestSize;
            long next = Math.min(e.end(), boundary);
            Extent piece = off == e.start() && next == e.end() ? e : Extent.data(off, next - off);
            if (pending.isEmpty() || off >= unitEnd) {
                flush(out);
                unitEnd = boundary;
            } else {
                pending.addAll(trailing);
                trailing.clear();
            }
            pending.add(piece);
            if (next == boundary) {
                flush(out); // the unit is full: nothing more can join
            }
            off = next;
        }
        return out.isEmpty() ? Collections.emptyList() : out;
    }

    /** The requests still held back, at the end of the extents. */
    List<Request> end() {
        List<Request> out = new ArrayList<>(1);
        flush(out);
        return out;
    }

    /** Emits the pending pieces as one request (gathered if more than one), then the trailing gaps. */
    private void flush(List<Request> out) {
        if (pending.size() == 1) {
            Extent only = pending.get(0);
            out.add(new Request(Request.Kind.DATA, only.start(), only.length()));
        } else if (!pending.isEmpty()) {
            long start = pending.get(0).start();
            long end = pending.get(pending.size() - 1).end();
            out.add(new Request(Request.Kind.DATA, start, end - start, List.copyOf(pending)));
        }
        pending.clear();
        for (Extent g : trailing) {
            gap(g, out);
        }
        trailing.clear();
    }

    /** A zero or hole extent on its own: zero requests, or one skip. */
    private void gap(Extent e, List<Request> out) {
        if (e.zero() && !skipZeroes) {
            for (long off = e.start(); off < e.end(); off += maxZeroSize) {
                out.add(new Request(Request.Kind.ZERO, off, Math.min(maxZeroSize, e.end() - off)));
            }
        } else {
            out.add(new Request(Request.Kind.SKIP, e.start(), e.length()));
        }
    }

    /** Data cut at {@code unit} boundaries of the image, one request each. */
    private static void cutData(Extent e, long unit, List<Request> out) {
        long off = e.start();
        while (off < e.end()) {
            long next = Math.min(e.end(), (off / unit + 1) * unit);
            out.add(new Request(Request.Kind.DATA, off, next - off));
            off = next;
        }
    }
}
