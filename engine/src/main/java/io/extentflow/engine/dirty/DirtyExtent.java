package io.extentflow.engine.dirty;

import io.extentflow.engine.extent.Mergeable;

/**
 * A range of an image with its dirty state and whether it reads as zeros: one element of
 * ovirt-imageio's {@code GET /images/TICKET/extents?context=dirty} reply,
 * {@code {"start":0,"length":65536,"dirty":true,"zero":false}}.
 *
 * @param start  offset of the first byte
 * @param length bytes, positive
 * @param dirty  the range changed since the bitmap's checkpoint
 * @param zero   the range reads as zeros
 */
public record DirtyExtent(long start, long length, boolean dirty, boolean zero) implements Mergeable<DirtyExtent> {

    public DirtyExtent {
        if (start < 0 || length <= 0 || length > Long.MAX_VALUE - start) {
            throw new IllegalArgumentException("bad dirty extent start=" + start + " length=" + length);
        }
    }

    /** The offset just past the last byte. */
    public long end() {
        return start + length;
    }

    @Override
    public boolean continuedBy(DirtyExtent next) {
        return dirty == next.dirty && zero == next.zero && end() == next.start;
    }

    @Override
    public DirtyExtent mergedWith(DirtyExtent next) {
        return new DirtyExtent(start, length + next.length, dirty, zero);
    }
}
