package io.extentflow.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/** A client of a copy daemon's jobs API on a loopback port, with the test token. */
class JobsClient {

    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final String TOKEN = "s3cret-Token_for.tests";
    static final ObjectMapper JSON = new ObjectMapper();

    final HttpClient http;

    JobsClient(int port) {
        http = HttpClient.create().host("127.0.0.1").port(port);
    }

    /** A reply: status, body, headers. */
    record Reply(int status, String body, HttpHeaders headers) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (Exception e) {
                throw new AssertionError("not JSON: " + this, e);
            }
        }
    }

    /** One server-sent event. */
    record Event(String name, JsonNode data) {
    }

    Reply request(HttpMethod method, String uri, String body, Consumer<HttpHeaders> headers) {
        var sender = http.headers(headers).request(method).uri(uri);
        var response = body == null ? sender : sender.send(Mono.fromSupplier(
                () -> Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8))));
        return response.responseSingle((resp, bytes) -> bytes.asString().defaultIfEmpty("")
                        .map(text -> new Reply(resp.status().code(), text, resp.responseHeaders())))
                .block(TIMEOUT);
    }

    /** A request with the right token. */
    Reply request(HttpMethod method, String uri, String body) {
        return request(method, uri, body, h -> h.set("Authorization", "Bearer " + TOKEN));
    }

    /** POSTs a copy job and returns its id (fails unless 202). */
    String submit(String source, String target, ObjectNode options) {
        ObjectNode body = JSON.createObjectNode().put("source", source).put("target", target);
        if (options != null) {
            body.set("options", options);
        }
        Reply r = request(HttpMethod.POST, "/v1/copies", body.toString());
        if (r.status() != 202) {
            throw new AssertionError("submit failed: " + r);
        }
        return r.json().get("id").asText();
    }

    JsonNode job(String id) {
        Reply r = request(HttpMethod.GET, "/v1/copies/" + id, null);
        if (r.status() != 200) {
            throw new AssertionError("GET job failed: " + r);
        }
        return r.json();
    }

    /** Every event of the job's stream until the server ends it. */
    List<Event> events(String id) {
        return eventsUntil(id, e -> false);
    }

    /**
     * The job's events until the server ends the stream or {@code stop} accepts one (the stream is
     * then closed by the client).
     */
    List<Event> eventsUntil(String id, java.util.function.Predicate<Event> stop) {
        List<Event> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        try {
            return http.headers(h -> h.set("Authorization", "Bearer " + TOKEN))
                    .get().uri("/v1/copies/" + id + "/events")
                    .responseContent().asString()
                    .transform(JobsClient::sseEvents)
                    .doOnNext(seen::add)
                    .takeUntil(stop)
                    .collectList()
                    .block(TIMEOUT);
        } catch (IllegalStateException timeout) {
            // say where the job and the threads were, for whoever reads the failure
            StringBuilder dump = new StringBuilder();
            Thread.getAllStackTraces().forEach((t, stack) -> {
                dump.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
                for (StackTraceElement e : stack) {
                    dump.append("    at ").append(e).append('\n');
                }
            });
            System.err.println("events of " + id + " timed out; thread dump:\n" + dump);
            throw new AssertionError("no end of the events of job " + id + " within " + TIMEOUT + "; last: "
                    + (seen.isEmpty() ? "none" : seen.getLast()), timeout);
        }
    }

    /** Parses text chunks of an event stream into events. */
    static reactor.core.publisher.Flux<Event> sseEvents(reactor.core.publisher.Flux<String> chunks) {
        StringBuilder buffer = new StringBuilder();
        return chunks.concatMapIterable(chunk -> {
            buffer.append(chunk);
            List<Event> out = new ArrayList<>();
            for (int end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
                String block = buffer.substring(0, end);
                buffer.delete(0, end + 2);
                String name = "message";
                StringBuilder data = new StringBuilder();
                for (String line : block.split("\n")) {
                    if (line.startsWith("event: ")) {
                        name = line.substring(7);
                    } else if (line.startsWith("data: ")) {
                        data.append(line.substring(6));
                    }
                }
                try {
                    out.add(new Event(name, JSON.readTree(data.toString())));
                } catch (Exception e) {
                    throw new AssertionError("bad event data: " + block, e);
                }
            }
            return out;
        });
    }

    /** Follows the job's events to the end and returns its final state (the result event). */
    JsonNode awaitResult(String id) {
        List<Event> events = events(id);
        if (events.isEmpty() || !events.getLast().name().equals("result")) {
            throw new AssertionError("event stream did not end with a result: " + events);
        }
        return events.getLast().data();
    }

    String metrics() {
        return request(HttpMethod.GET, "/metrics", null, h -> { }).body();
    }
}
