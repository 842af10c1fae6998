package io.extentflow.engine.nbd;

/**
 * One block status descriptor at its absolute offset.
 *
 * @param offset first byte
 * @param length bytes
 * @param flags  the context's status value (for {@code base:allocation}: bit 0 hole, bit 1 zero;
 *               for {@code qemu:allocation-depth}: the depth, 0 = unallocated)
 */
public record NbdExtent(long offset, long length, int flags) {

    public long end() {
        return offset + length;
    }
}
