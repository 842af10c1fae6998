package io.extentflow.engine.imageio;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The {@code OPTIONS /images/<id>} reply: what the server offers for one ticket.
 *
 * @param allow       methods from the {@code Allow} header, e.g. {@code [OPTIONS, GET, PUT, PATCH]}
 * @param features    names from {@link Features}
 * @param maxReaders  connections the server serves in parallel for reading (1 when not announced)
 * @param maxWriters  connections the server serves in parallel for writing (1 when not announced)
 * @param size        bytes readable through the ticket when announced (our extension), else empty
 * @param unixSocket  the server's local service ({@code unix_socket}): a Unix socket serving the
 *                    same API to clients on the server's host, or null
 */
public record ImageOptions(List<String> allow, List<String> features, int maxReaders, int maxWriters,
                           OptionalLong size, String unixSocket) {

    public ImageOptions {
        allow = List.copyOf(allow);
        features = List.copyOf(features);
    }

    /** What an old server that answers OPTIONS with 405 or 204 offers: GET and PUT only. */
    public static ImageOptions legacy() {
        return new ImageOptions(List.of("OPTIONS", "GET", "PUT"), List.of(), 1, 1, OptionalLong.empty(), null);
    }

    /** True when {@code feature} is offered. */
    public boolean has(String feature) {
        return features.contains(feature);
    }

    /** True when the ticket allows uploads. */
    public boolean writable() {
        return allow.contains("PUT");
    }

    /** The JSON body (without {@code allow}, which travels in a header). */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (unixSocket != null) {
            m.put("unix_socket", unixSocket);
        }
        m.put("features", features);
        m.put("max_readers", maxReaders);
        m.put("max_writers", maxWriters);
        size.ifPresent(s -> m.put("size", s));
        return m;
    }

    /** Parses a reply from its {@code Allow} header and JSON body. */
    public static ImageOptions parse(String allowHeader, byte[] json) throws IOException {
        List<String> allow = new ArrayList<>();
        if (allowHeader != null) {
            for (String m : allowHeader.split(",")) {
                if (!m.isBlank()) {
                    allow.add(m.trim().toUpperCase(java.util.Locale.ROOT));
                }
            }
        }
        JsonNode root = json.length == 0 ? ImageioJson.MAPPER.createObjectNode() : ImageioJson.MAPPER.readTree(json);
        if (root == null || !root.isObject()) {
            throw new IOException("OPTIONS reply is not a JSON object");
        }
        List<String> features = new ArrayList<>();
        root.path("features").forEach(f -> features.add(f.asText()));
        int readers = root.path("max_readers").asInt(1);
        int writers = root.path("max_writers").asInt(1);
        JsonNode size = root.get("size");
        JsonNode socket = root.get("unix_socket");
        return new ImageOptions(allow, features, Math.max(1, readers), Math.max(1, writers),
                size != null && size.canConvertToLong() ? OptionalLong.of(size.asLong()) : OptionalLong.empty(),
                socket != null && socket.isTextual() && !socket.asText().isEmpty() ? socket.asText() : null);
    }
}
