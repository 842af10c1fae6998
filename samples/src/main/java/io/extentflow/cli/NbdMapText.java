package io.extentflow.cli;

import io.extentflow.engine.extent.RunMerger;
import io.extentflow.engine.nbd.NbdExtent;
import io.extentflow.engine.nbd.NbdMapFormat;
import java.io.PrintWriter;

/**
 * An NBD export's map as {@code nbdinfo --map} prints it: one line per run of one type,
 * {@code offset length type description}, adjacent extents of the same type joined. Extents come one
 * at a time, so a map of any size is printed without being held.
 */
final class NbdMapText {

    private final PrintWriter out;
    private final String context;
    /** Holds the run being merged with the extents that follow it, not yet printed. */
    private final RunMerger<NbdExtent> merger = new RunMerger<>();

    NbdMapText(PrintWriter out, String context) {
        this.out = out;
        this.context = context;
    }

    /** The next extent, in ascending order. */
    void add(NbdExtent e) {
        merger.add(e, this::print);
    }

    /** Prints the last run. */
    void finish() {
        merger.finish().ifPresent(this::print);
    }

    private void print(NbdExtent run) {
        // nbdinfo's format: "%10" PRIu64 "  %10" PRIu64 "  %3" PRIu32 "  %s\n"
        out.printf("%10d  %10d  %3d  %s%n", run.offset(), run.length(),
                Integer.toUnsignedLong(run.flags()), NbdMapFormat.description(context, run.flags()));
    }
}
