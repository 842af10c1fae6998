package io.extentflow.engine.capability;

import io.extentflow.engine.nbd.message.NbdProtocol;

/**
 * Which ranges changed since a checkpoint, as a dirty bitmap tracks them, in the values of qemu's
 * {@code qemu:dirty-bitmap:NAME} context: 1 ({@link NbdProtocol#STATE_DIRTY}) where the range is
 * dirty, 0 where it is clean. Offered by sources that were opened with a bitmap to read (an NBD export
 * with {@code qemu-nbd -B NAME}, a qcow2 image's persistent bitmap, an imageio ticket's dirty
 * extents); the base of incremental copies ({@link io.extentflow.engine.dirty.IncrementalSource}).
 */
public interface DirtyExtents extends StatusMap {

    /** The bitmap's name; empty when the source does not name it (imageio's {@code context=dirty}). */
    String bitmap();

    /** {@code qemu:dirty-bitmap:NAME}. */
    @Override
    default String context() {
        return NbdProtocol.CONTEXT_DIRTY_BITMAP_PREFIX + bitmap();
    }
}
