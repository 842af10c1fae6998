package io.extentflow.sinks;

import io.extentflow.engine.endpoint.EndpointOption;

/** How sinks carry out zero requests: one key that the file and the NBD sink both honour. */
public final class ZeroOptions {

    /**
     * A sink's zero requests leave the range allocated (file: {@code ZERO_RANGE}; NBD: {@code WRITE_ZEROES}
     * with {@code NO_HOLE}) instead of punching a hole, as ovirt-imageio does for tickets with
     * {@code "sparse": false}.
     */
    public static final EndpointOption<Boolean> ALLOCATE_ZEROES = EndpointOption.flag("allocate-zeroes",
            "Keep the ranges the copy zeroes allocated on the target (a file's ZERO_RANGE, NBD WRITE_ZEROES "
                    + "without holes) instead of punching holes, for targets that must not be sparse.");

    private ZeroOptions() {
    }
}
