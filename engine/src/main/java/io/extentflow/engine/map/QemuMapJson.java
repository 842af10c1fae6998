package io.extentflow.engine.map;

import io.extentflow.engine.extent.RunMerger;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writes a map exactly as {@code qemu-img map --output=json} (qemu 7.2) prints it, so scripts and
 * tests can compare the two texts byte for byte:
 * <pre>
 * [{ "start": 0, "length": 65536, "depth": 0, "present": true, "zero": false, "data": true, "offset": 0},
 * { "start": 65536, "length": 983040, "depth": 0, "present": true, "zero": true, "data": false, "offset": 65536}]
 * </pre>
 * One object per line, a space after {@code {} but none before {@code }}, {@code ",\n"} between
 * entries, {@code "]\n"} at the end ({@link #finish()}). Entries are merged as qemu merges them
 * (see {@link MapEntry#continuedBy}).
 * An empty window prints qemu's single zero-length entry.
 */
public final class QemuMapJson {

    private final Appendable out;
    /** Merges entries as qemu does before printing: the text does not depend on a source's windows. */
    private final RunMerger<MapEntry> merger = new RunMerger<>();
    private final long start;
    private boolean printedAny;

    /**
     * @param out   where the text goes
     * @param start start of the mapped window (used only for the entry qemu prints for an empty window)
     */
    public QemuMapJson(Appendable out, long start) {
        this.out = out;
        this.start = start;
    }

    /** Adds the next entry (ascending, contiguous). */
    public void add(MapEntry entry) {
        if (entry.length() == 0) {
            return; // qemu prints no empty entries
        }
        merger.add(entry, this::print);
    }

    /**
     * Prints the last entry and the closing bracket. Not called when the map failed half-way, so a
     * failed map never looks like a complete JSON array.
     */
    public void finish() {
        merger.finish().ifPresent(this::print);
        if (!printedAny) {
            print(new MapEntry(start, 0, 0, false, false, false, null, null));
        }
        append("]\n");
    }

    /** One entry in qemu's JSON spelling, without separators. */
    public static String format(MapEntry e) {
        StringBuilder b = new StringBuilder(128);
        b.append("{ \"start\": ").append(e.start())
                .append(", \"length\": ").append(e.length())
                .append(", \"depth\": ").append(e.depth())
                .append(", \"present\": ").append(e.present())
                .append(", \"zero\": ").append(e.zero())
                .append(", \"data\": ").append(e.data());
        if (e.compressed() != null) {
            b.append(", \"compressed\": ").append(e.compressed());
        }
        if (e.offset() != null) {
            b.append(", \"offset\": ").append(e.offset());
        }
        return b.append('}').toString();
    }

    private void print(MapEntry e) {
        append(printedAny ? ",\n" : "[");
        append(format(e));
        printedAny = true;
    }

    private void append(String s) {
        try {
            out.append(s);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }
}
