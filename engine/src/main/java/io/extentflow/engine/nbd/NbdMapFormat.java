package io.extentflow.engine.nbd;

import io.extentflow.engine.nbd.message.NbdProtocol;
import java.util.ArrayList;
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
 */
public final class NbdMapFormat {

    private NbdMapFormat() {
    }

    /** The whole export's map of {@code context} (e.g. {@code base:allocation}) as nbdinfo's JSON text. */
    public static Mono<String> json(NbdClient client, String context) {
        return client.map(context, 0, client.size()).collectList().map(l -> json(l, context));
    }

    /** {@code extents} (ascending, contiguous) as nbdinfo's JSON text, ending with a newline. */
    public static String json(List<NbdExtent> extents, String context) {
        StringBuilder b = new StringBuilder("[\n");
        List<NbdExtent> merged = merge(extents);
        for (int i = 0; i < merged.size(); i++) {
            NbdExtent e = merged.get(i);
            b.append("{ \"offset\": ").append(e.offset())
                    .append(", \"length\": ").append(e.length())
                    .append(", \"type\": ").append(Integer.toUnsignedLong(e.flags()))
                    .append(", \"description\": \"").append(description(context, e.flags())).append("\"}")
                    .append(i + 1 < merged.size() ? ",\n" : "\n");
        }
        return b.append("]\n").toString();
    }

    /** Adjacent entries with the same type joined into one. */
    public static List<NbdExtent> merge(List<NbdExtent> extents) {
        List<NbdExtent> out = new ArrayList<>(extents.size());
        for (NbdExtent e : extents) {
            int last = out.size() - 1;
            if (last >= 0 && out.get(last).flags() == e.flags() && out.get(last).end() == e.offset()) {
                NbdExtent p = out.get(last);
                out.set(last, new NbdExtent(p.offset(), p.length() + e.length(), p.flags()));
            } else {
                out.add(e);
            }
        }
        return out;
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
