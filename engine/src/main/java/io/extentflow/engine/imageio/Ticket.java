package io.extentflow.engine.imageio;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A ticket of the imageio control API: the right to access one image through {@code /images/<uuid>}.
 * Parsed strictly, as ovirt-imageio does: integers must be JSON integers, strings JSON strings.
 * Unknown keys are ignored.
 *
 * @param uuid              the id used in {@code /images/<uuid>}
 * @param size              bytes accessible; every range is checked against it
 * @param url               the backing image, any address {@code Endpoints} opens ({@code file:},
 *                          a path, {@code nbd://}, ...)
 * @param ops               {@code read} and/or {@code write}; write implies read
 * @param timeout           seconds the ticket lives after its last activity (request, buffer moved)
 * @param inactivityTimeout seconds a request may make no progress before its connection is closed
 * @param sparse            zero requests deallocate (punch holes); false (the default) keeps zeroed
 *                          ranges allocated, as in ovirt-imageio
 * @param transferId        for logs and error messages
 * @param filename          added to {@code Content-Disposition} on downloads, may be null
 * @param dirty             {@code GET .../extents?context=dirty} answers from a dirty bitmap of the image
 *                          (ovirt-imageio's key); without it that request is a 404
 * @param dirtyBitmap       which bitmap ({@code dirty_bitmap}, our key): a persistent bitmap of a local
 *                          qcow2 image, or {@code qemu:dirty-bitmap:NAME} of an NBD export; null for the
 *                          one bitmap the image or export has (ovirt-imageio learns it so from its NBD
 *                          export, which exports exactly one)
 */
public record Ticket(String uuid, long size, String url, Set<String> ops, long timeout, long inactivityTimeout,
                     boolean sparse, String transferId, String filename, boolean dirty, String dirtyBitmap) {

    /** Default inactivity timeout of ovirt-imageio, in seconds. */
    public static final long DEFAULT_INACTIVITY_TIMEOUT = 60;
    /** URL schemes a ticket may name (a plain absolute path is accepted too). */
    public static final List<String> SCHEMES = List.of("file", "nbd", "nbd+unix", "http", "https");

    public Ticket {
        ops = Set.copyOf(ops);
        if (dirtyBitmap != null && !dirty) {
            throw invalid("'dirty_bitmap' needs \"dirty\": true");
        }
    }

    /** A ticket without dirty extents. */
    public Ticket(String uuid, long size, String url, Set<String> ops, long timeout, long inactivityTimeout,
                  boolean sparse, String transferId, String filename) {
        this(uuid, size, url, ops, timeout, inactivityTimeout, sparse, transferId, filename, false, null);
    }

    /** True if the ticket allows {@code op}; write implies read. */
    public boolean may(String op) {
        return ops.contains(op) || ("read".equals(op) && ops.contains("write"));
    }

    /**
     * Parses a ticket. The message of the exception is the one-line reason for a {@code 400}, e.g.
     * {@code Invalid ticket: Required ticket parameter is missing: ops}.
     */
    public static Ticket parse(byte[] json) {
        JsonNode root;
        try {
            root = ImageioJson.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("Ticket is not in a json format: " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("Ticket is not in a json format: expecting a JSON object");
        }
        String uuid = string(root, "uuid", null, true);
        long size = integer(root, "size", 0, true);
        String url = string(root, "url", null, true);
        JsonNode opsNode = root.get("ops");
        if (opsNode == null) {
            throw invalid("Required ticket parameter is missing: ops");
        }
        if (!opsNode.isArray()) {
            throw invalid("Invalid value for 'ops': " + opsNode + ": expecting a list");
        }
        Set<String> ops = new java.util.TreeSet<>();
        for (JsonNode op : opsNode) {
            if (!op.isTextual() || !(op.asText().equals("read") || op.asText().equals("write"))) {
                throw invalid("Invalid value for 'ops': " + opsNode + ": expecting 'read' and/or 'write'");
            }
            ops.add(op.asText());
        }
        long timeout = integer(root, "timeout", 0, true);
        long inactivity = integer(root, "inactivity_timeout", DEFAULT_INACTIVITY_TIMEOUT, false);
        boolean sparse = bool(root, "sparse", false);
        String transferId = string(root, "transfer_id",
                "(ticket/" + uuid.substring(0, Math.min(18, uuid.length())) + ")", false);
        String filename = string(root, "filename", null, false);
        boolean dirty = bool(root, "dirty", false);
        String dirtyBitmap = string(root, "dirty_bitmap", null, false);
        if (dirtyBitmap != null && dirtyBitmap.isEmpty()) {
            throw invalid("Invalid value for 'dirty_bitmap': must not be empty");
        }
        if (uuid.isEmpty()) {
            throw invalid("Invalid value for 'uuid': must not be empty");
        }
        if (size < 0) {
            throw invalid("Invalid value for 'size': " + size + " < 0");
        }
        if (timeout < 0 || inactivity < 0) {
            throw invalid("Invalid value for 'timeout': must not be negative");
        }
        checkUrl(url);
        return new Ticket(uuid, size, url, ops, timeout, inactivity, sparse, transferId, filename, dirty, dirtyBitmap);
    }

    private static void checkUrl(String url) {
        if (url.startsWith("/")) {
            return;
        }
        int colon = url.indexOf(':');
        String scheme = colon > 0 ? url.substring(0, colon) : "";
        if (!SCHEMES.contains(scheme)) {
            throw invalid("Unsupported url scheme: " + (scheme.isEmpty() ? url : scheme));
        }
    }

    /** The ticket as the control API's {@code PUT /tickets/<id>} body. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("uuid", uuid);
        m.put("size", size);
        m.put("url", url);
        m.put("ops", List.copyOf(new java.util.TreeSet<>(ops)));
        m.put("timeout", timeout);
        m.put("inactivity_timeout", inactivityTimeout);
        m.put("sparse", sparse);
        m.put("transfer_id", transferId);
        if (filename != null) {
            m.put("filename", filename);
        }
        m.put("dirty", dirty);
        if (dirtyBitmap != null) {
            m.put("dirty_bitmap", dirtyBitmap);
        }
        return m;
    }

    private static String string(JsonNode root, String key, String dflt, boolean required) {
        JsonNode n = root.get(key);
        if (n == null || (!required && n.isNull())) {
            if (required) {
                throw invalid("Required ticket parameter is missing: " + key);
            }
            return dflt;
        }
        if (!n.isTextual()) {
            throw invalid("Invalid value for '" + key + "': " + n + ": expecting a string value");
        }
        return n.asText();
    }

    private static long integer(JsonNode root, String key, long dflt, boolean required) {
        JsonNode n = root.get(key);
        if (n == null) {
            if (required) {
                throw invalid("Required ticket parameter is missing: " + key);
            }
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw invalid("Invalid value for '" + key + "': " + n + ": expecting an integer value");
        }
        return n.asLong();
    }

    private static boolean bool(JsonNode root, String key, boolean dflt) {
        JsonNode n = root.get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw invalid("Invalid value for '" + key + "': " + n + ": expecting a boolean value");
        }
        return n.asBoolean();
    }

    private static IllegalArgumentException invalid(String reason) {
        return new IllegalArgumentException("Invalid ticket: " + reason);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
