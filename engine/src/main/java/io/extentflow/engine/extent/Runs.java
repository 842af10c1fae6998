package io.extentflow.engine.extent;

import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The one place where adjacent ranges that say the same thing are merged, for every
 * {@link Mergeable} range type: as a list is built, over a whole list, and over a flux.
 */
public final class Runs {

    private Runs() {
    }

    /**
     * Appends {@code next} to {@code out}, merged into the last range of {@code out} when it
     * {@linkplain Mergeable#continuedBy continues} it.
     */
    public static <T extends Mergeable<T>> void append(List<T> out, T next) {
        int last = out.size() - 1;
        if (last >= 0 && out.get(last).continuedBy(next)) {
            out.set(last, out.get(last).mergedWith(next));
        } else {
            out.add(next);
        }
    }

    /** {@code runs} (ascending) with adjacent ranges that continue each other merged. */
    public static <T extends Mergeable<T>> List<T> merge(List<T> runs) {
        List<T> out = new ArrayList<>(runs.size());
        for (T r : runs) {
            append(out, r);
        }
        return out;
    }

    /**
     * {@code runs} (ascending) with adjacent ranges that continue each other merged, lazily: only the
     * range still growing is held, and it is emitted once the next range does not continue it (or
     * at the end).
     */
    public static <T extends Mergeable<T>> Flux<T> merge(Flux<T> runs) {
        return Flux.defer(() -> {
            RunMerger<T> merger = new RunMerger<>();
            return runs.<T>handle((next, sink) -> {
                        T done = merger.add(next);
                        if (done != null) {
                            sink.next(done);
                        }
                    })
                    .concatWith(Mono.fromSupplier(() -> merger.finish().orElse(null)));
        });
    }
}
