package io.extentflow.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.extentflow.engine.copy.CopyResult;

/** The line (or JSON object) {@code extentflow copy} prints when done. */
final class CopySummary {

    private CopySummary() {
    }

    /**
     * E.g. {@code copied 8 GiB: 2 GiB data, 6 GiB zero in 1.234 s (6.48 GiB/s)}; a copy that left ranges
     * of its source unallocated ({@code --top-layer-only}: they fall through to a backing chain) says
     * so apart, {@code copied 100 MiB: 37.3 MiB data, 0 B zero, 62.7 MiB unallocated in ...}, as they
     * need not read as zeros. Data the kernel copied ({@code copy_file_range}) is data, and said so:
     * {@code 2 GiB data (2 GiB offloaded)}.
     *
     * @param unallocated the bytes of {@code r}'s skipped ones that the source left unallocated
     */
    static String line(CopyResult r, long unallocated) {
        return "copied " + Sizes.human(r.size()) + ": " + Sizes.human(r.dataBytes()) + " data"
                + (r.offloadedBytes() > 0 ? " (" + Sizes.human(r.offloadedBytes()) + " offloaded)" : "") + ", "
                + Sizes.human(r.zeroedBytes() + r.skippedBytes() - unallocated) + " zero"
                + (unallocated > 0 ? ", " + Sizes.human(unallocated) + " unallocated" : "")
                + " in " + Decimals.fixed(seconds(r), 3) + " s (" + Sizes.human(r.bytesPerSecond()) + "/s)";
    }

    /**
     * An incremental copy's line, e.g. {@code applied changes to 8 GiB: 80 MiB data, 1 MiB zeroed,
     * 7.92 GiB unchanged in 0.9 s}: the skipped bytes are the clean ranges, left as the target had them.
     */
    static String incrementalLine(CopyResult r) {
        return "applied changes to " + Sizes.human(r.size()) + ": " + Sizes.human(r.dataBytes()) + " data, "
                + Sizes.human(r.zeroedBytes()) + " zeroed, " + Sizes.human(r.skippedBytes()) + " unchanged in "
                + Decimals.fixed(seconds(r), 3) + " s";
    }

    /**
     * The result's fields as one JSON object, sizes in bytes, times in seconds; with
     * {@code checksum} (not null) when the copy was verified; {@code unallocatedBytes} is the part of
     * {@code skippedBytes} that the source left unallocated (see {@link #line}).
     */
    static String json(String source, String target, CopyResult r, long unallocated, String checksum) {
        ObjectNode o = Json.MAPPER.createObjectNode()
                .put("source", source)
                .put("target", target)
                .put("size", r.size())
                .put("dataBytes", r.dataBytes())
                .put("zeroedBytes", r.zeroedBytes())
                .put("skippedBytes", r.skippedBytes())
                .put("unallocatedBytes", unallocated)
                .put("readBytes", r.readBytes())
                .put("offloadedBytes", r.offloadedBytes())
                .put("peakBytesInFlight", r.peakBytesInFlight())
                .put("seconds", seconds(r))
                .put("bytesPerSecond", Math.round(r.bytesPerSecond()));
        if (checksum != null) {
            o.put("verified", true).put("checksum", checksum);
        }
        return o.toString();
    }

    private static double seconds(CopyResult r) {
        return r.duration().toNanos() / 1e9;
    }
}
