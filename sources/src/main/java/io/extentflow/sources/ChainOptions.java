package io.extentflow.sources;

import io.extentflow.engine.endpoint.EndpointOption;

/**
 * Options of sources that read an image with a backing chain: qcow2 files, and NBD exports whose
 * server reports allocation depth (qemu-nbd). One key for both, so one flag sets it for either.
 */
public final class ChainOptions {

    /**
     * Expose only an image's top layer: ranges it leaves to its backing chain become holes without
     * {@code zero}, so a copy leaves them untouched on the target (for copying an overlay alone).
     */
    public static final EndpointOption<Boolean> TOP_LAYER_ONLY = EndpointOption.flag("top-layer-only",
            "Read only the top layer of a qcow2 chain: ranges it leaves to its backing file are left untouched "
                    + "on the target (for copying an overlay onto a copy of its backing).");

    private ChainOptions() {
    }
}
