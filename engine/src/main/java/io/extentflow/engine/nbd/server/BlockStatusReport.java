package io.extentflow.engine.nbd.server;

import io.extentflow.engine.capability.StatusMap;
import io.extentflow.engine.nbd.NbdExtent;
import java.util.Arrays;
import reactor.core.publisher.Mono;

/**
 * The descriptors of one BLOCK_STATUS reply for one context: contiguous from the request's offset,
 * clipped to the request, adjacent equal values merged, at most {@link #MAX_DESCRIPTORS} of them (the
 * client asks again from where the reply ended), and exactly one with {@code REQ_ONE}. The source's
 * map is read only as far as the reply needs.
 */
final class BlockStatusReport {

    /** Descriptors per reply: qemu-nbd's bound, 1 MiB of descriptors (the spec allows up to 2^20). */
    static final int MAX_DESCRIPTORS = 131_072;

    private long[] lengths;
    /** Where each descriptor ends (for finding a part of a cached report). */
    private long[] ends;
    private int[] flags;
    private int count;
    private final int limit;
    private final long start;
    private long end;

    private BlockStatusReport(long start, int limit) {
        this.start = start;
        this.end = start;
        this.limit = limit;
        int initial = Math.min(limit, 64);
        this.lengths = new long[initial];
        this.ends = new long[initial];
        this.flags = new int[initial];
    }

    /**
     * The report of {@code [offset, offset + length)} from {@code map}.
     *
     * @param reqOne one descriptor only
     */
    static Mono<BlockStatusReport> of(StatusMap map, long offset, long length, boolean reqOne) {
        return collect(map, offset, length, reqOne ? 1 : MAX_DESCRIPTORS);
    }

    /**
     * The descriptors of {@code [offset, offset + length)} from {@code map}, at most {@code limit} of
     * them (the report then ends where the last one does: {@link #end()}).
     */
    static Mono<BlockStatusReport> collect(StatusMap map, long offset, long length, int limit) {
        return Mono.defer(() -> {
            BlockStatusReport report = new BlockStatusReport(offset, limit);
            long requestEnd = offset + length;
            return map.map(offset, length)
                    .takeWhile(e -> report.add(e, requestEnd))
                    .then(Mono.fromCallable(() -> {
                        if (report.count == 0) {
                            throw new IllegalStateException("the status map of " + offset + "+" + length
                                    + " is empty");
                        }
                        return report;
                    }));
        });
    }

    /**
     * The part of {@code this} report (a cached window) that covers {@code [offset, offset + length)},
     * which must lie inside it: the same descriptors a report made from the map would hold.
     *
     * @param reqOne one descriptor only
     */
    BlockStatusReport part(long offset, long length, boolean reqOne) {
        BlockStatusReport part = new BlockStatusReport(offset, reqOne ? 1 : MAX_DESCRIPTORS);
        long requestEnd = offset + length;
        // the descriptor holding offset: the first whose end is past it
        int lo = 0;
        int hi = count;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] <= offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        for (int i = lo; i < count && part.add(i == 0 ? start : ends[i - 1], ends[i], flags[i], requestEnd); i++) {
            // add says when the part is complete
        }
        return part;
    }

    /** Adds {@code e} (clipped); false once the report is full, which stops the map. */
    private boolean add(NbdExtent e, long requestEnd) {
        if (Math.max(e.offset(), end) != end) {
            throw new IllegalStateException("status map gap at " + end + ": next range starts at " + e.offset());
        }
        return add(e.offset(), e.end(), e.flags(), requestEnd);
    }

    /** Adds {@code [from, to)} with {@code value} (clipped to the report's end and the request's). */
    private boolean add(long from, long to, int value, long requestEnd) {
        long first = Math.max(from, end);
        long last = Math.min(to, requestEnd);
        if (last <= first) {
            return last < requestEnd;
        }
        if (count > 0 && flags[count - 1] == value) {
            lengths[count - 1] += last - first;
            ends[count - 1] = last;
        } else if (count == limit) {
            return false;
        } else {
            if (count == lengths.length) {
                int grown = Math.min(limit, count * 2);
                lengths = Arrays.copyOf(lengths, grown);
                ends = Arrays.copyOf(ends, grown);
                flags = Arrays.copyOf(flags, grown);
            }
            lengths[count] = last - first;
            ends[count] = last;
            flags[count] = value;
            count++;
        }
        end = last;
        return end < requestEnd;
    }

    /** This report with its arrays cut to its descriptors (to be kept: they grow by doubling). */
    BlockStatusReport trimmed() {
        lengths = Arrays.copyOf(lengths, count);
        ends = Arrays.copyOf(ends, count);
        flags = Arrays.copyOf(flags, count);
        return this;
    }

    /** Number of descriptors. */
    int count() {
        return count;
    }

    /** Descriptor lengths, exactly {@link #count()} of them (a copy). */
    long[] lengths() {
        return Arrays.copyOf(lengths, count);
    }

    /** Descriptor values, exactly {@link #count()} of them (a copy). */
    int[] flags() {
        return Arrays.copyOf(flags, count);
    }

    /** The first offset after the report. */
    long end() {
        return end;
    }

    /** The request's offset. */
    long start() {
        return start;
    }
}
