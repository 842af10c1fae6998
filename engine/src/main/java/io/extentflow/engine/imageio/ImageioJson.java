package io.extentflow.engine.imageio;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.Extent;
import io.extentflow.engine.dirty.DirtyExtent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** JSON of the imageio API: one shared mapper, and the extents lists (zero and dirty) in both directions. */
public final class ImageioJson {

    /** Thread-safe once configured; shared by server and client. */
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private ImageioJson() {
    }

    /** {@code value} as compact JSON with the trailing newline imageio puts after every JSON reply. */
    public static byte[] toBytes(Object value) {
        try {
            byte[] json = MAPPER.writeValueAsBytes(value);
            byte[] out = new byte[json.length + 1];
            System.arraycopy(json, 0, out, 0, json.length);
            out[json.length] = '\n';
            return out;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    /** Appends one extent in imageio's shape: {@code {"start":0,"length":65536,"zero":false,"hole":false}}. */
    public static StringBuilder appendExtent(StringBuilder out, Extent e) {
        return out.append("{\"start\":").append(e.start())
                .append(",\"length\":").append(e.length())
                .append(",\"zero\":").append(e.zero())
                .append(",\"hole\":").append(e.hole())
                .append('}');
    }

    /** Parses an extents reply. {@code hole} defaults to false (dirty extents and old servers omit it). */
    public static List<Extent> parseExtents(byte[] json) throws IOException {
        JsonNode root = MAPPER.readTree(json);
        if (root == null || !root.isArray()) {
            throw new IOException("extents reply is not a JSON list: " + preview(json));
        }
        List<Extent> out = new ArrayList<>(root.size());
        for (JsonNode n : root) {
            JsonNode start = n.get("start");
            JsonNode length = n.get("length");
            if (start == null || length == null || !start.isIntegralNumber() || !length.isIntegralNumber()) {
                throw new IOException("extent without integer start and length: " + n);
            }
            try {
                out.add(new Extent(start.asLong(), length.asLong(), n.path("zero").asBoolean(false),
                        n.path("hole").asBoolean(false)));
            } catch (IllegalArgumentException e) {
                throw new IOException("invalid extent " + n + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /**
     * Appends one dirty extent in imageio's {@code context=dirty} shape:
     * {@code {"start":0,"length":65536,"dirty":true,"zero":false}}.
     */
    public static StringBuilder appendDirtyExtent(StringBuilder out, DirtyExtent e) {
        return out.append("{\"start\":").append(e.start())
                .append(",\"length\":").append(e.length())
                .append(",\"dirty\":").append(e.dirty())
                .append(",\"zero\":").append(e.zero())
                .append('}');
    }

    /** Parses a {@code context=dirty} reply. {@code zero} defaults to false (imageio before 2.2 omits it). */
    public static List<DirtyExtent> parseDirtyExtents(byte[] json) throws IOException {
        JsonNode root = MAPPER.readTree(json);
        if (root == null || !root.isArray()) {
            throw new IOException("dirty extents reply is not a JSON list: " + preview(json));
        }
        List<DirtyExtent> out = new ArrayList<>(root.size());
        for (JsonNode n : root) {
            JsonNode start = n.get("start");
            JsonNode length = n.get("length");
            JsonNode dirty = n.get("dirty");
            if (start == null || length == null || !start.isIntegralNumber() || !length.isIntegralNumber()
                    || dirty == null || !dirty.isBoolean()) {
                throw new IOException("dirty extent without integer start and length and boolean dirty: " + n);
            }
            try {
                out.add(new DirtyExtent(start.asLong(), length.asLong(), dirty.asBoolean(),
                        n.path("zero").asBoolean(false)));
            } catch (IllegalArgumentException e) {
                throw new IOException("invalid dirty extent " + n + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static String preview(byte[] json) {
        String s = new String(json, 0, Math.min(json.length, 80), StandardCharsets.UTF_8);
        return s.replace('\n', ' ');
    }
}
