package io.extentflow.engine.map;

import io.extentflow.engine.extent.Mergeable;
import java.util.Objects;

/**
 * One entry of a host-level image map, with the fields {@code qemu-img map --output=json} prints, so
 * {@code extentflow map --output=json} can match it field for field.
 *
 * @param start      guest offset
 * @param length     bytes
 * @param depth      layer of the backing chain that answered (0 = the image itself)
 * @param present    allocated somewhere in the chain
 * @param zero       reads as zeros
 * @param data       backed by data in a file
 * @param offset     host offset in the file that holds the data, or null when qemu prints none
 * @param compressed true for compressed clusters, null when qemu prints no such field
 */
public record MapEntry(long start, long length, int depth, boolean present, boolean zero, boolean data,
                       Long offset, Boolean compressed) implements Mergeable<MapEntry> {

    /**
     * qemu's rule (qemu-img.c {@code entry_mergeable}) for an entry that starts where this one ends:
     * equal depth, present, zero, data and compressed flags, both with or both without a host
     * offset, and host offsets that continue each other.
     */
    @Override
    public boolean continuedBy(MapEntry next) {
        if (start + length != next.start || depth != next.depth || present != next.present || zero != next.zero
                || data != next.data || !Objects.equals(compressed, next.compressed)
                || (offset == null) != (next.offset == null)) {
            return false;
        }
        return offset == null || offset + length == next.offset;
    }

    /** This entry grown by {@code next}'s length. */
    @Override
    public MapEntry mergedWith(MapEntry next) {
        return new MapEntry(start, length + next.length, depth, present, zero, data, offset, compressed);
    }
}
