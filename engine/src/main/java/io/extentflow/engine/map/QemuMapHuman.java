package io.extentflow.engine.map;

import io.extentflow.engine.extent.RunMerger;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.function.IntFunction;

/**
 * Writes a map as {@code qemu-img map} (qemu 7.2, default human output) prints it: a header, then one
 * line per range of plain data with its host offset and the file holding it, columns 16 wide, numbers
 * in {@code %#x} style (so zero prints as {@code 0}). Zero and unallocated ranges are not listed.
 */
public final class QemuMapHuman {

    private final Appendable out;
    private final IntFunction<String> fileAtDepth;
    /** Merges entries as qemu does before printing: the text does not depend on a source's windows. */
    private final RunMerger<MapEntry> merger = new RunMerger<>();

    /**
     * @param out         where the text goes
     * @param fileAtDepth the file name qemu would print for a layer of the chain (0 = the image)
     */
    public QemuMapHuman(Appendable out, IntFunction<String> fileAtDepth) {
        this.out = out;
        this.fileAtDepth = fileAtDepth;
        append(String.format(Locale.ROOT, "%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File"));
    }

    /**
     * Adds the next entry.
     *
     * @throws IllegalArgumentException for data without a host offset (compressed clusters), which
     *                                  this format cannot show (qemu refuses them too)
     */
    public void add(MapEntry entry) {
        if (entry.length() == 0) {
            return; // qemu prints no empty entries
        }
        merger.add(entry, this::print);
    }

    /** Prints the last entry. */
    public void finish() {
        merger.finish().ifPresent(this::print);
    }

    private void print(MapEntry e) {
        if (e.data() && e.offset() == null) {
            throw new IllegalArgumentException("the image contains compressed or external clusters, which the "
                    + "human map cannot show; use --output=json");
        }
        if (e.data() && !e.zero()) {
            append(hex(e.start()) + hex(e.length()) + hex(e.offset()) + fileAtDepth.apply(e.depth()) + "\n");
        }
    }

    /** C's {@code %#-16x}: {@code 0x} prefix except for zero, left-aligned in 16 columns. */
    private static String hex(long v) {
        String s = v == 0 ? "0" : "0x" + Long.toHexString(v);
        return String.format(Locale.ROOT, "%-16s", s);
    }

    private void append(String s) {
        try {
            out.append(s);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }
}
