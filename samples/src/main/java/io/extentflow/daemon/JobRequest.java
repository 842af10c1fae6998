package io.extentflow.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.endpoint.NetworkOptions;
import io.extentflow.engine.endpoint.StreamAddress;
import io.extentflow.engine.imageio.HttpOptions;
import java.nio.file.Files;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a client asked to copy: {@code {"source": ADDRESS, "target": ADDRESS, "options": {...}}}.
 *
 * <p>Options (all optional): {@code request_size}, {@code max_in_flight} (bytes), {@code detect_zeroes},
 * {@code target_is_zero}, {@code flush} (see {@link CopyOptions}), {@code incremental} (see
 * {@link #incremental()}); and every endpoint option the
 * providers on the class path declare, by its {@link EndpointOption#jsonName()} ({@code connections},
 * {@code ca_file}, {@code insecure}, {@code top_layer_only}, ...; see {@link Endpoints#options()}), used
 * for both endpoints: a JSON boolean for flags, an integer for numbers, a string otherwise ({@code true}
 * also for an option that the command line takes without its value, e.g. {@code "compress": true}).
 *
 * @param source   address to read
 * @param target   address to write
 * @param copy     the copy options
 * @param endpoint how the endpoints are opened
 * @param json     the request as given, kept in the journal so that a restart rebuilds the same job
 */
public record JobRequest(String source, String target, CopyOptions copy, EndpointOptions endpoint, ObjectNode json) {

    /** Most buffer memory one job may ask for: the token holder should not be able to exhaust the daemon. */
    static final long MAX_IN_FLIGHT = 1L << 30;
    /** Most connections one job may open per endpoint. */
    static final int MAX_CONNECTIONS = 64;

    private static final Set<String> FIELDS = Set.of("source", "target", "options");
    private static final Set<String> COPY_OPTIONS = Set.of("request_size", "max_in_flight", "detect_zeroes",
            "target_is_zero", "flush", "incremental");

    /** Parses and checks a request body; a {@link BadRequest} names what is wrong. */
    static JobRequest parse(JsonNode body) {
        if (body == null || body.isMissingNode()) {
            throw BadRequest.invalid("empty request body: expected a JSON object {\"source\": ..., \"target\": ...}");
        }
        if (!body.isObject()) {
            throw BadRequest.invalid("expected a JSON object {\"source\": ..., \"target\": ..., \"options\": {...}}");
        }
        unknownFields(body, FIELDS, "");
        String source = address(body, "source");
        String target = address(body, "target");
        if (!Endpoints.knowsSource(source)) {
            throw BadRequest.invalid("unknown source address '" + source + "': " + Endpoints.sourceAddresses());
        }
        if (!Endpoints.knowsSink(target)) {
            throw BadRequest.invalid("unknown target address '" + target + "': " + Endpoints.sinkAddresses());
        }
        if (StreamAddress.isStdio(source) || StreamAddress.isStdio(target)) {
            throw BadRequest.invalid("the daemon has no standard input or output: '-' is not an address here");
        }
        JsonNode o = body.path("options");
        if (!o.isMissingNode() && !o.isObject()) {
            throw BadRequest.invalid("\"options\" must be an object");
        }
        List<EndpointOption<?>> endpointOptions = Endpoints.options();
        Set<String> known = new LinkedHashSet<>(COPY_OPTIONS);
        endpointOptions.forEach(option -> known.add(option.jsonName()));
        unknownFields(o, known, "options.");
        try {
            CopyOptions copy = CopyOptions.defaults();
            if (o.has("request_size")) {
                copy = copy.withRequestSize((int) Math.min(Integer.MAX_VALUE, number(o, "request_size")));
            }
            if (o.has("max_in_flight")) {
                long inFlight = number(o, "max_in_flight");
                if (inFlight > MAX_IN_FLIGHT) {
                    throw BadRequest.invalid("options.max_in_flight " + inFlight + " is more than the daemon allows ("
                            + MAX_IN_FLIGHT + ")");
                }
                copy = copy.withMaxInFlight(inFlight);
            }
            copy = copy.withDetectZeroes(bool(o, "detect_zeroes", copy.detectZeroes()))
                    .withTargetIsZero(bool(o, "target_is_zero", copy.targetIsZero()))
                    // a sparse stream ends with its stop frame, written by the flush
                    .withFlush(bool(o, "flush", copy.flush()) || StreamAddress.isStream(target));
            if (bool(o, "incremental", false) && copy.targetIsZero()) {
                throw BadRequest.invalid("options.target_is_zero would leave dirty zero ranges unwritten; an "
                        + "incremental target holds an older copy of the image");
            }
            EndpointOptions endpoint = EndpointOptions.defaults();
            for (EndpointOption<?> option : endpointOptions) {
                JsonNode n = o.get(option.jsonName());
                if (n != null) {
                    endpoint = endpoint.withParsed(option, text(option, n));
                }
            }
            int connections = endpoint.getOrElse(NetworkOptions.CONNECTIONS, 0);
            if (connections > MAX_CONNECTIONS) {
                throw BadRequest.invalid("options.connections " + connections + " is more than the daemon allows ("
                        + MAX_CONNECTIONS + ")");
            }
            // an option neither end takes (compress for a raw target) would be ignored without a word
            Endpoints.requireApplicable(source, target, endpoint, option -> "options." + option.jsonName());
            ObjectNode json = JsonNodeFactory.instance.objectNode();
            json.put("source", source).put("target", target).set("options", o.isObject() ? o.deepCopy()
                    : JsonNodeFactory.instance.objectNode());
            return new JobRequest(source, target, copy, endpoint, json);
        } catch (IllegalArgumentException e) {
            throw BadRequest.invalid(e.getMessage());
        }
    }

    /**
     * True for an incremental copy ({@code "incremental": true}): only the ranges the source's dirty
     * bitmap marks are copied (give it with {@code dirty_bitmap}), into an existing full copy or a
     * qcow2 overlay on one.
     */
    boolean incremental() {
        JsonNode n = json.path("options").path("incremental");
        return n.isBoolean() && n.asBoolean();
    }

    /**
     * Fails when an incremental copy's target is a raw file that does not exist: it would be created
     * holding only the changes. Blocking (a file system call).
     */
    void requireIncrementalTarget() {
        if (incremental() && FileAddress.isFile(target) && !StreamAddress.isStream(target)
                && !FileAddress.toPath(target).toString().endsWith(".qcow2")
                && !Files.exists(FileAddress.toPath(target))) {
            throw new IllegalArgumentException("incremental: target " + target + " does not exist: an incremental "
                    + "copy goes into an existing full copy or a qcow2 overlay on one");
        }
    }

    /**
     * True when a restarted copy can continue at its checkpoint: not for sparse streams, read or written
     * in order, whether as files or standard I/O or as imageio images moved as one stream (http_stream),
     * nor for a target whose kind says it cannot go on part way ({@link Endpoints#resumable}: a qcow2
     * file, whose metadata is written only at the end).
     */
    boolean resumable() {
        return !StreamAddress.isStream(source) && !StreamAddress.isStream(target)
                && !endpoint.get(HttpOptions.HTTP_STREAM) && Endpoints.resumable(target, endpoint);
    }

    private static String address(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            throw BadRequest.invalid("missing \"" + field + "\" address");
        }
        if (!n.isTextual() || n.asText().isBlank()) {
            throw BadRequest.invalid("\"" + field + "\" must be an address string");
        }
        return n.asText();
    }

    private static long number(JsonNode o, String field) {
        JsonNode n = o.get(field);
        if (!n.canConvertToLong() || !n.isIntegralNumber() || n.asLong() <= 0) {
            throw BadRequest.invalid("options." + field + " must be a positive integer, got " + n);
        }
        return n.asLong();
    }

    /**
     * The text form of {@code n}, the JSON value of {@code option}, once its JSON type fits the option's
     * type (a boolean for a flag, an integer for a number, a string otherwise) and the option takes it.
     */
    private static String text(EndpointOption<?> option, JsonNode n) {
        if (option.implicitValue() != null && n.isBoolean() && n.asBoolean()) {
            return option.implicitValue(); // "compress": true, as the command line's bare --compress
        }
        boolean fits = option.isFlag() ? n.isBoolean()
                : option.type() == Integer.class ? n.isIntegralNumber() && n.canConvertToInt()
                : n.isTextual();
        if (fits) {
            try {
                option.parse(n.asText());
                return n.asText();
            } catch (IllegalArgumentException e) {
                // out of range: said below in the JSON's terms
            }
        }
        throw BadRequest.invalid("options." + option.jsonName() + " must be " + option.expected() + ", got " + n);
    }

    private static boolean bool(JsonNode o, String field, boolean otherwise) {
        JsonNode n = o.get(field);
        if (n == null) {
            return otherwise;
        }
        if (!n.isBoolean()) {
            throw BadRequest.invalid("options." + field + " must be true or false, got " + n);
        }
        return n.asBoolean();
    }

    private static void unknownFields(JsonNode node, Set<String> known, String prefix) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!known.contains(name)) {
                throw BadRequest.invalid("unknown field \"" + prefix + name + "\" (known: " + String.join(", ",
                        known.stream().sorted().toList()) + ")");
            }
        }
    }
}
