package io.extentflow.engine.nbd;

import io.extentflow.engine.extent.Mergeable;

/**
 * One block status descriptor at its absolute offset.
 *
 * @param offset first byte
 * @param length bytes
 * @param flags  the context's status value (for {@code base:allocation}: bit 0 hole, bit 1 zero;
 *               for {@code qemu:allocation-depth}: the depth, 0 = unallocated)
 */
public record NbdExtent(long offset, long length, int flags) implements Mergeable<NbdExtent> {

    /** The offset just past the last byte. */
    public long end() {
        return offset + length;
    }

    /** True when {@code next} starts at this descriptor's end with the same status value. */
    @Override
    public boolean continuedBy(NbdExtent next) {
        return flags == next.flags && end() == next.offset;
    }

    /** This descriptor grown by {@code next}'s length. */
    @Override
    public NbdExtent mergedWith(NbdExtent next) {
        return new NbdExtent(offset, length + next.length, flags);
    }
}
