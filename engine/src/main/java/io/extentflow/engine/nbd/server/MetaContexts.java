package io.extentflow.engine.nbd.server;

import io.extentflow.engine.capability.StatusMap;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code NBD_OPT_LIST_META_CONTEXT} and {@code NBD_OPT_SET_META_CONTEXT}: their request data and
 * which of an export's contexts a query names. A context's id is its place in the export's list, the
 * same on every connection (ids are per connection in the protocol; fixed ones are simplest).
 *
 * <p>Listing with no query lists everything; a query ending in a colon ({@code base:}, {@code qemu:},
 * {@code qemu:dirty-bitmap:}) lists what it starts. Setting takes exact names only, and unknown names are ignored, as the spec asks.
 */
final class MetaContexts {

    /** Longest name or query accepted (the spec's limit for strings). */
    static final int MAX_STRING = 4096;

    /** A context chosen for the connection. */
    record Selected(int id, String name, StatusMap map) {
    }

    /** The request data: the export name and the queries. */
    record Query(String export, List<String> queries) {
    }

    private MetaContexts() {
    }

    /**
     * Parses the option data.
     *
     * @throws IllegalArgumentException when lengths do not add up or a string is too long
     */
    static Query parse(ByteBuffer data) {
        try {
            String export = string(data, data.getInt());
            long count = Integer.toUnsignedLong(data.getInt());
            if (count * 4 > data.remaining()) {
                throw new IllegalArgumentException(count + " queries cannot fit " + data.remaining() + " bytes");
            }
            List<String> queries = new ArrayList<>();
            for (long i = 0; i < count; i++) {
                queries.add(string(data, data.getInt()));
            }
            if (data.hasRemaining()) {
                throw new IllegalArgumentException(data.remaining() + " bytes after the last query");
            }
            return new Query(export, queries);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("the data ends early");
        }
    }

    private static String string(ByteBuffer data, int length) {
        if (length < 0 || length > MAX_STRING || length > data.remaining()) {
            throw new IllegalArgumentException("string length " + Integer.toUnsignedString(length) + " is invalid");
        }
        byte[] b = new byte[length];
        data.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** The contexts a LIST answers with (all for no query). */
    static List<Selected> list(Map<String, StatusMap> contexts, List<String> queries) {
        List<Selected> all = all(contexts);
        if (queries.isEmpty()) {
            return all;
        }
        return all.stream().filter(c -> queries.stream().anyMatch(q -> q.equals(c.name())
                || (q.endsWith(":") && c.name().startsWith(q)))).toList();
    }

    /** The contexts a SET selects: exact names only. */
    static List<Selected> set(Map<String, StatusMap> contexts, List<String> queries) {
        return all(contexts).stream().filter(c -> queries.contains(c.name())).toList();
    }

    private static List<Selected> all(Map<String, StatusMap> contexts) {
        List<Selected> all = new ArrayList<>();
        int id = 0;
        for (Map.Entry<String, StatusMap> e : contexts.entrySet()) {
            all.add(new Selected(id++, e.getKey(), e.getValue()));
        }
        return all;
    }
}
