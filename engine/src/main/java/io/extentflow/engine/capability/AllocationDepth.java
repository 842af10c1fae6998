package io.extentflow.engine.capability;

import io.extentflow.engine.nbd.message.NbdProtocol;

/**
 * Which layer of a backing chain allocates each range, in the values of qemu's
 * {@code qemu:allocation-depth} context: 0 where no layer allocates it, 1 for the image itself, 2 for
 * its backing file, and so on.
 */
@FunctionalInterface
public interface AllocationDepth extends StatusMap {

    /** {@code qemu:allocation-depth}. */
    @Override
    default String context() {
        return NbdProtocol.CONTEXT_ALLOCATION_DEPTH;
    }
}
