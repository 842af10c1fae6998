package io.extentflow.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Validation of JSON fields and query parameters, with ovirt-imageio's wording of the errors. */
final class Params {

    private Params() {
    }

    /** A JSON string field that must be one of {@code allowed}. */
    static String enumValue(JsonNode msg, String name, List<String> allowed) {
        JsonNode n = msg.get(name);
        if (n == null) {
            throw ApiError.badRequest("Missing required value for '" + name + "'");
        }
        if (!n.isTextual() || !allowed.contains(n.asText())) {
            throw ApiError.badRequest("Unsupported value " + quote(n) + " for '" + name + "', expecting one of "
                    + pyList(allowed));
        }
        return n.asText();
    }

    /** A non-negative JSON integer field; {@code dflt} null makes it required. */
    static long integer(JsonNode msg, String name, Long dflt) {
        JsonNode n = msg.get(name);
        if (n == null) {
            if (dflt == null) {
                throw ApiError.badRequest("Missing required value for '" + name + "'");
            }
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw ApiError.badRequest("Integer required " + quote(n));
        }
        long v = n.asLong();
        if (v < 0) {
            throw ApiError.badRequest("Invalid value " + v + " < 0");
        }
        return v;
    }

    /** A JSON boolean field. */
    static boolean bool(JsonNode msg, String name, boolean dflt) {
        JsonNode n = msg.get(name);
        if (n == null) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw ApiError.badRequest("Boolean required " + quote(n));
        }
        return n.asBoolean();
    }

    /** A non-negative integer query parameter, or null when absent. */
    static Long queryInteger(Map<String, List<String>> query, String name) {
        List<String> values = query.get(name);
        if (values == null || values.isEmpty()) {
            return null;
        }
        String v = values.get(0);
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw ApiError.badRequest("Invalid value for '" + name + "': " + n + " < 0");
            }
            return n;
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("Invalid value for '" + name + "': '" + v + "': expecting an integer");
        }
    }

    /** A list as Python prints it, as ovirt-imageio's messages show: {@code ['n', 'y']}. */
    static String pyList(List<String> values) {
        return values.stream().map(v -> "'" + v + "'").collect(Collectors.joining(", ", "[", "]"));
    }

    private static String quote(JsonNode n) {
        return "'" + (n.isTextual() ? n.asText() : n.toString()) + "'";
    }
}
