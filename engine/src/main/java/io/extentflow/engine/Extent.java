package io.extentflow.engine;

import io.extentflow.engine.extent.Mergeable;

/**
 * A contiguous byte range of an image and what it holds.
 *
 * <p>The JSON shape is ovirt-imageio's: {@code {"start":0,"length":65536,"zero":false,"hole":false}}.
 * <ul>
 *   <li>data: neither flag; must be read and written.</li>
 *   <li>{@code zero}: reads as zeros (allocated or not); never read, becomes a zero request or nothing
 *       when the target is known to be zero.</li>
 *   <li>{@code hole}: unallocated in this layer. With {@code zero} it is an ordinary hole; without
 *       {@code zero} it reads from a backing layer that the source chose not to expose, and a copy
 *       must leave the target untouched there (writing zeros would hide the target's backing chain).</li>
 * </ul>
 *
 * @param start  offset of the first byte
 * @param length number of bytes, positive
 * @param zero   the range reads as zeros
 * @param hole   the range is unallocated in the source layer
 */
public record Extent(long start, long length, boolean zero, boolean hole) implements Mergeable<Extent> {

    public Extent {
        if (start < 0 || length <= 0 || length > Long.MAX_VALUE - start) {
            throw new IllegalArgumentException("bad extent start=" + start + " length=" + length);
        }
    }

    /** A data extent: must be read and written. */
    public static Extent data(long start, long length) {
        return new Extent(start, length, false, false);
    }

    /** A range that reads as zeros and is allocated (e.g. a qcow2 zero cluster). */
    public static Extent zero(long start, long length) {
        return new Extent(start, length, true, false);
    }

    /** An unallocated range that reads as zeros. */
    public static Extent hole(long start, long length) {
        return new Extent(start, length, true, true);
    }

    /** The offset just past the last byte. */
    public long end() {
        return start + length;
    }

    /** True when the bytes must be read and written. */
    public boolean isData() {
        return !zero && !hole;
    }

    /** True when the extent has the same flags as {@code other}, so the two may be merged when adjacent. */
    public boolean sameKind(Extent other) {
        return zero == other.zero && hole == other.hole;
    }

    /** True when {@code next} starts at this extent's end with the same flags. */
    @Override
    public boolean continuedBy(Extent next) {
        return sameKind(next) && end() == next.start;
    }

    /** This extent grown by {@code next}'s length. */
    @Override
    public Extent mergedWith(Extent next) {
        return withRange(start, length + next.length);
    }

    /** This extent cut to {@code [from, to)}; the range must overlap. */
    public Extent clip(long from, long to) {
        long s = Math.max(start, from);
        long e = Math.min(end(), to);
        if (s == start && e == end()) {
            return this;
        }
        return new Extent(s, e - s, zero, hole);
    }

    /** The same flags over another range. */
    public Extent withRange(long newStart, long newLength) {
        return new Extent(newStart, newLength, zero, hole);
    }
}
