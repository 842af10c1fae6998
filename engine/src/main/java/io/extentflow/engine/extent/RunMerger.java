package io.extentflow.engine.extent;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * Merges ascending ranges one at a time, holding only the range still growing: each {@link #add}
 * hands on the range the new one ended, {@link #finish} the last one. For printers that write a map
 * as it comes, so a map of millions of ranges needs no more memory than one of a few; {@link Runs}
 * builds its flux merge on it.
 *
 * <p>Not thread-safe: one caller feeds it in order.
 *
 * @param <T> the range type
 */
public final class RunMerger<T extends Mergeable<T>> {

    /** The range that may still grow; null before the first and after {@link #finish}. */
    private T pending;

    /**
     * Adds the next range: merged into the pending one when it {@linkplain Mergeable#continuedBy
     * continues} it, else the pending one is complete and goes to {@code completed}.
     */
    public void add(T next, Consumer<? super T> completed) {
        T done = add(next);
        if (done != null) {
            completed.accept(done);
        }
    }

    /**
     * Adds the next range as {@link #add(Mergeable, Consumer)} does, and returns the range it
     * completed, or null. For callers that pass each range on themselves: a consumer made per range
     * is an allocation per extent.
     */
    public T add(T next) {
        T previous = pending;
        if (previous != null && previous.continuedBy(next)) {
            pending = previous.mergedWith(next);
            return null;
        }
        pending = next;
        return previous;
    }

    /** The last range, empty when none was added; the merger is empty afterwards. */
    public Optional<T> finish() {
        T last = pending;
        pending = null;
        return Optional.ofNullable(last);
    }
}
