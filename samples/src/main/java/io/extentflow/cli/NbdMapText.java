package io.extentflow.cli;

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
    private NbdExtent pending;

    NbdMapText(PrintWriter out, String context) {
        this.out = out;
        this.context = context;
    }

    /** The next extent, in ascending order. */
    void add(NbdExtent e) {
        if (pending != null && pending.flags() == e.flags() && pending.end() == e.offset()) {
            pending = new NbdExtent(pending.offset(), pending.length() + e.length(), pending.flags());
            return;
        }
        flushPending();
        pending = e;
    }

    /** Prints the last run. */
    void finish() {
        flushPending();
    }

    private void flushPending() {
        if (pending != null) {
            // nbdinfo's format: "%10" PRIu64 "  %10" PRIu64 "  %3" PRIu32 "  %s\n"
            out.printf("%10d  %10d  %3d  %s%n", pending.offset(), pending.length(),
                    Integer.toUnsignedLong(pending.flags()), NbdMapFormat.description(context, pending.flags()));
            pending = null;
        }
    }
}
