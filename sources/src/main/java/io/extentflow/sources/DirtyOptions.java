package io.extentflow.sources;

import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.nbd.message.NbdProtocol;

/**
 * Options of sources that can report dirty extents from a named bitmap: NBD exports
 * ({@code qemu-nbd -B NAME}) and qcow2 images with persistent bitmaps. One key for both, so one flag
 * sets it for either.
 */
public final class DirtyOptions {

    /**
     * The dirty bitmap to read, by name, or as the NBD context {@code qemu:dirty-bitmap:NAME} (as
     * {@code nbdinfo --map=} takes it). A source opened with it offers
     * {@link io.extentflow.engine.capability.DirtyExtents}, and fails to open when it has no such bitmap.
     */
    public static final EndpointOption<String> DIRTY_BITMAP = EndpointOption.text("dirty-bitmap", "NAME",
            "Read the dirty bitmap NAME (or qemu:dirty-bitmap:NAME) of an NBD export or qcow2 image, for "
                    + "--incremental copies and maps of the dirty context.");

    /**
     * The value of {@link #DIRTY_BITMAP} that asks for the one bitmap the image or export has (the
     * context namespace alone); opening fails when it has none or several.
     */
    public static final String ONLY_BITMAP = NbdProtocol.CONTEXT_DIRTY_BITMAP_PREFIX;

    private DirtyOptions() {
    }

    /**
     * The bitmap's name from the option's value: {@code qemu:dirty-bitmap:} is taken off; empty for
     * {@link #ONLY_BITMAP}.
     */
    public static String bitmapName(String value) {
        return value.startsWith(NbdProtocol.CONTEXT_DIRTY_BITMAP_PREFIX)
                ? value.substring(NbdProtocol.CONTEXT_DIRTY_BITMAP_PREFIX.length()) : value;
    }
}
