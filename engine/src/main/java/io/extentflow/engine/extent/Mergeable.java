package io.extentflow.engine.extent;

/**
 * A range type whose adjacent values may be reported as one when they say the same thing about their
 * bytes. What "the same" means is each type's own rule (equal flags for an extent; equal depth, flags
 * and continuing host offsets for a {@code qemu-img map} entry; ...); {@link Runs} and
 * {@link RunMerger} do the merging for every such type.
 *
 * @param <T> the implementing type
 */
public interface Mergeable<T extends Mergeable<T>> {

    /**
     * True when {@code next} starts exactly where this range ends and says the same about its bytes,
     * so the two may be reported as one range.
     */
    boolean continuedBy(T next);

    /** This range and {@code next}, which {@linkplain #continuedBy continues} it, as one range. */
    T mergedWith(T next);
}
