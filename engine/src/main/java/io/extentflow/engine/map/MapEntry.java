package io.extentflow.engine.map;

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
                       Long offset, Boolean compressed) {
}
