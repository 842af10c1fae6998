package io.extentflow.engine.capability;

import io.extentflow.engine.nbd.message.NbdProtocol;

/**
 * The allocation status as the source's protocol states it, before it becomes
 * {@link io.extentflow.engine.Extent}s: NBD's {@code base:allocation} values (bit 0 hole, bit 1
 * reads as zeros), what {@code nbdinfo --map} prints.
 */
@FunctionalInterface
public interface AllocationExtents extends StatusMap {

    /** {@code base:allocation}. */
    @Override
    default String context() {
        return NbdProtocol.CONTEXT_BASE_ALLOCATION;
    }
}
