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
        this.flags = new int[initial];
    }

    /**
     * The report of {@code [offset, offset + length)} from {@code map}.
     *
     * @param reqOne one descriptor only
     */
    static Mono<BlockStatusReport> of(StatusMap map, long offset, long length, boolean reqOne) {
        return Mono.defer(() -> {
            BlockStatusReport report = new BlockStatusReport(offset, reqOne ? 1 : MAX_DESCRIPTORS);
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

    /** Adds {@code e} (clipped); false once the report is full, which stops the map. */
    private boolean add(NbdExtent e, long requestEnd) {
        long from = Math.max(e.offset(), end);
        long to = Math.min(e.end(), requestEnd);
        if (from != end) {
            throw new IllegalStateException("status map gap at " + end + ": next range starts at " + e.offset());
        }
        if (to <= from) {
            return to < requestEnd;
        }
        if (count > 0 && flags[count - 1] == e.flags()) {
            lengths[count - 1] += to - from;
        } else if (count == limit) {
            return false;
        } else {
            if (count == lengths.length) {
                int grown = Math.min(limit, count * 2);
                lengths = Arrays.copyOf(lengths, grown);
                flags = Arrays.copyOf(flags, grown);
            }
            lengths[count] = to - from;
            flags[count] = e.flags();
            count++;
        }
        end = to;
        return end < requestEnd;
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
