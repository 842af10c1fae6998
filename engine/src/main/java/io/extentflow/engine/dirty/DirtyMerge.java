package io.extentflow.engine.dirty;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.extent.ExtentWindows;
import io.extentflow.engine.extent.Runs;
import io.extentflow.engine.nbd.NbdExtent;
import io.extentflow.engine.nbd.message.NbdProtocol;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Merges a source's allocation extents with its dirty bitmap into {@link DirtyExtent}s, the way
 * ovirt-imageio merges {@code base:allocation} with {@code qemu:dirty-bitmap:NAME} for
 * {@code context=dirty}: a range is dirty as the bitmap says, and zero as the extents say.
 *
 * <p>Both come in bounded windows: for each window both lists are fetched (the next window while
 * the current one is consumed, never more) and walked side by side, so memory is bounded by one
 * window's descriptors whatever the image size.
 */
public final class DirtyMerge {

    /** Bytes of image per window: 64 MiB, at most 128 Ki bitmap descriptors at qemu's smallest granularity. */
    public static final long DEFAULT_WINDOW = 64L << 20;

    private DirtyMerge() {
    }

    /** The dirty extents of {@code [start, start + length)}, in windows of {@link #DEFAULT_WINDOW}. */
    public static Flux<DirtyExtent> extents(ImageSource source, DirtyExtents dirty, long start, long length) {
        return extents(source, dirty, start, length, DEFAULT_WINDOW);
    }

    /**
     * The dirty extents of {@code [start, start + length)}: ascending, contiguous, covering exactly
     * that range, adjacent extents with equal flags merged.
     */
    public static Flux<DirtyExtent> extents(ImageSource source, DirtyExtents dirty, long start, long length,
                                            long window) {
        if (start < 0 || length < 0 || window <= 0 || start > Long.MAX_VALUE - length) {
            return Flux.error(new IllegalArgumentException("bad dirty extents range start=" + start + " length="
                    + length));
        }
        if (length == 0) {
            return Flux.empty();
        }
        return Runs.merge(ExtentWindows.<DirtyExtent>perWindow(start, length, window, (ws, we) -> Mono.zip(
                        source.extents(ws, we - ws).collectList(), dirty.map(ws, we - ws).collectList())
                .map(t -> merge(source.endpoint(), dirty.context(), ws, we, t.getT1(), t.getT2()))));
    }

    /** Walks the two lists, both covering {@code [ws, we)}, cutting at every boundary of either. */
    static List<DirtyExtent> merge(String endpoint, String context, long ws, long we, List<Extent> allocation,
                                   List<NbdExtent> bitmap) {
        checkCovers(endpoint, "extents", ws, we, allocation.stream().map(e -> new long[] {e.start(), e.end()})
                .toList());
        checkCovers(endpoint, context, ws, we, bitmap.stream().map(e -> new long[] {e.offset(), e.end()}).toList());
        List<DirtyExtent> out = new ArrayList<>();
        int ai = 0;
        int bi = 0;
        long pos = ws;
        while (pos < we) {
            Extent a = allocation.get(ai);
            NbdExtent b = bitmap.get(bi);
            long to = Math.min(we, Math.min(a.end(), b.end()));
            Runs.append(out, new DirtyExtent(pos, to - pos, (b.flags() & NbdProtocol.STATE_DIRTY) != 0, a.zero()));
            pos = to;
            if (a.end() <= pos) {
                ai++;
            }
            if (b.end() <= pos) {
                bi++;
            }
        }
        return out;
    }

    /** Fails unless the ranges are ascending and contiguous from {@code ws} to at least {@code we}. */
    private static void checkCovers(String endpoint, String what, long ws, long we, List<long[]> ranges) {
        long reached = ws;
        for (long[] r : ranges) {
            if (r[0] != reached) {
                throw new ImageIoException("extents", endpoint, ws, we - ws,
                        what + " has a " + (r[0] > reached ? "gap" : "overlap") + " at " + reached, null);
            }
            reached = r[1];
        }
        if (reached < we) {
            throw new ImageIoException("extents", endpoint, ws, we - ws, what + " ends at " + reached
                    + ", before " + we, null);
        }
    }
}
