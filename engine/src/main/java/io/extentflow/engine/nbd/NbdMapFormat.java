package io.extentflow.engine.nbd;

import io.extentflow.engine.extent.RunMerger;
import io.extentflow.engine.nbd.message.NbdProtocol;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Prints block status the way {@code nbdinfo --map --json} (libnbd 1.14) does, for {@code extentflow map}
 * on NBD addresses: one entry per line with {@code offset}, {@code length}, {@code type} (the raw status
 * value) and {@code description}, adjacent entries of equal type merged:
 *
 * <pre>
 * [
 * { "offset": 0, "length": 65536, "type": 0, "description": "data"},
 * { "offset": 65536, "length": 4128768, "type": 3, "description": "hole,zero"}
 * ]
 * </pre>
 *
 * <p>An instance writes entries as they come ({@link #add}, then {@link #finish()}), holding only the
 * entry being merged, so a map of millions of extents needs no more memory than one of a few.
 */
public final class NbdMapFormat {

    private final Appendable out;
    private final String context;
    /** Holds the entry being merged with the ones that follow it, not yet printed. */
    private final RunMerger<NbdExtent> merger = new RunMerger<>();

    /**
     * Starts the text (its opening bracket) in {@code out}.
     *
     * @param context the block status context the entries come from, for their descriptions
     */
    public NbdMapFormat(Appendable out, String context) {
        this.out = out;
        this.context = context;
        append("[\n");
    }

    /** Adds the next entry (ascending, contiguous); printed once an entry of another type follows. */
    public void add(NbdExtent e) {
        merger.add(e, done -> print(done, ",\n"));
    }

    /**
     * Prints the last entry and the closing bracket. Not called when the map failed half-way, so a
     * failed map never looks like a complete JSON array.
     */
    public void finish() {
        merger.finish().ifPresent(last -> print(last, "\n"));
        append("]\n");
    }

    /** The whole export's map of {@code context} (e.g. {@code base:allocation}) as nbdinfo's JSON text. */
    public static Mono<String> json(NbdClient client, String context) {
        return Mono.defer(() -> {
            StringBuilder b = new StringBuilder();
            NbdMapFormat f = new NbdMapFormat(b, context);
            return client.map(context, 0, client.size()).doOnNext(f::add).then(Mono.fromSupplier(() -> {
                f.finish();
                return b.toString();
            }));
        });
    }

    /** {@code extents} (ascending, contiguous) as nbdinfo's JSON text, ending with a newline. */
    public static String json(List<NbdExtent> extents, String context) {
        StringBuilder b = new StringBuilder();
        NbdMapFormat f = new NbdMapFormat(b, context);
        extents.forEach(f::add);
        f.finish();
        return b.toString();
    }

    private void print(NbdExtent e, String separator) {
        append("{ \"offset\": " + e.offset() + ", \"length\": " + e.length() + ", \"type\": "
                + Integer.toUnsignedLong(e.flags()) + ", \"description\": \"" + description(context, e.flags())
                + "\"}" + separator);
    }

    private void append(String s) {
        try {
            out.append(s);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** nbdinfo's words for a status value of {@code context}. */
    public static String description(String context, int type) {
        if (context.equals(NbdProtocol.CONTEXT_BASE_ALLOCATION)) {
            return switch (type) {
                case 0 -> "data";
                case NbdProtocol.STATE_HOLE -> "hole";
                case NbdProtocol.STATE_ZERO -> "zero";
                case NbdProtocol.STATE_HOLE | NbdProtocol.STATE_ZERO -> "hole,zero";
                default -> "unknown (" + type + ")";
            };
        }
        if (context.equals(NbdProtocol.CONTEXT_ALLOCATION_DEPTH)) {
            return switch (type) {
                case 0 -> "absent";
                case 1 -> "local";
                default -> "backing depth " + type;
            };
        }
        if (context.startsWith("qemu:dirty-bitmap:")) {
            return type == 0 ? "clean" : type == 1 ? "dirty" : "unknown (" + type + ")";
        }
        return "";
    }
}
