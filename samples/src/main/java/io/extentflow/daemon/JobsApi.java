package io.extentflow.daemon;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The jobs API, JSON over HTTP under {@code /v1/copies}:
 * <ul>
 *   <li>{@code POST /v1/copies} {@code {"source", "target", "options"}}: 202 {@code {"id": ...}}</li>
 *   <li>{@code GET /v1/copies}, {@code GET /v1/copies/<id>}: the jobs, as {@link Job#toJson()}</li>
 *   <li>{@code GET /v1/copies/<id>/events}: server-sent events, {@code progress} while the job is not
 *       finished (at most one per {@link DaemonConfig#eventInterval()}), then one {@code result}, then
 *       the stream ends</li>
 *   <li>{@code DELETE /v1/copies/<id>}: cancels; answers when the copy's endpoints are closed</li>
 * </ul>
 * Errors are {@code {"error": "<one line>"}} with 400, 401, 403, 404, 405 or 413.
 */
final class JobsApi {

    private static final Logger LOG = Logger.getLogger("io.extentflow.daemon");
    private static final String PREFIX = "/v1/copies";
    private static final int MAX_BODY = 64 << 10;

    private final JobBoard jobs;
    private final Auth auth;
    private final Duration eventInterval;

    JobsApi(JobBoard jobs, Auth auth, Duration eventInterval) {
        this.jobs = jobs;
        this.auth = auth;
        this.eventInterval = eventInterval;
    }

    /** True for the paths this API serves. */
    static boolean serves(String path) {
        return path.equals("/v1") || path.startsWith("/v1/");
    }

    Mono<Void> handle(HttpServerRequest req, HttpServerResponse resp, String path) {
        return Mono.defer(() -> {
            auth.check(req);
            String method = req.method().name();
            if (path.equals(PREFIX) || path.equals(PREFIX + "/")) {
                return switch (method) {
                    case "GET" -> list().flatMap(a -> json(resp, 200, a));
                    case "POST" -> submit(req, resp);
                    default -> throw notAllowed(method, path);
                };
            }
            if (!path.startsWith(PREFIX + "/")) {
                throw new BadRequest(404, "no such resource '" + path + "'");
            }
            String rest = path.substring(PREFIX.length() + 1);
            boolean events = rest.endsWith("/events");
            String id = events ? rest.substring(0, rest.length() - "/events".length()) : rest;
            if (events && !method.equals("GET") || !events && !method.equals("GET") && !method.equals("DELETE")) {
                throw notAllowed(method, path);
            }
            Mono<ObjectNode> found = (method.equals("DELETE") ? jobs.cancel(id) : jobs.view(id))
                    .switchIfEmpty(Mono.error(() -> new BadRequest(404, "no such job '" + id + "'")));
            return found.flatMap(job -> events ? events(resp, id) : json(resp, 200, job));
        }).onErrorResume(e -> error(req, resp, e));
    }

    private Mono<JsonNode> list() {
        return jobs.list().map(all -> {
            ArrayNode a = JsonNodeFactory.instance.arrayNode();
            all.forEach(a::add);
            return a;
        });
    }

    private Mono<Void> submit(HttpServerRequest req, HttpServerResponse resp) {
        return body(req)
                .map(bytes -> {
                    try {
                        return JobRequest.parse(Journal.JSON.readTree(bytes));
                    } catch (JsonProcessingException e) {
                        throw BadRequest.invalid("malformed JSON: " + e.getOriginalMessage());
                    } catch (IOException e) {
                        throw BadRequest.invalid("unreadable body: " + e.getMessage());
                    }
                })
                .flatMap(jobs::submit)
                .flatMap(job -> {
                    String id = job.get("id").asText();
                    resp.header(HttpHeaderNames.LOCATION, PREFIX + "/" + id);
                    ObjectNode o = JsonNodeFactory.instance.objectNode().put("id", id)
                            .put("state", job.get("state").asText());
                    return json(resp, 202, o);
                });
    }

    /** The request body, at most {@link #MAX_BODY} bytes. */
    private static Mono<byte[]> body(HttpServerRequest req) {
        return req.receive().asByteArray()
                .collect(ByteArrayOutputStream::new, (out, b) -> {
                    if (out.size() + b.length > MAX_BODY) {
                        throw new BadRequest(413, "request body larger than " + MAX_BODY + " bytes");
                    }
                    out.writeBytes(b);
                })
                .map(ByteArrayOutputStream::toByteArray);
    }

    private Mono<Void> events(HttpServerResponse resp, String id) {
        Flux<String> events = Flux.interval(Duration.ZERO, eventInterval)
                .onBackpressureDrop()
                // one look at a time; a look that fails (the fleet's database restarting) is skipped
                .concatMap(t -> jobs.view(id).onErrorResume(e -> Mono.empty()), 1)
                .distinctUntilChanged(JsonNode::toString)
                .takeUntil(o -> JobState.ofWire(o.get("state").asText()).terminal())
                .map(o -> "event: " + (JobState.ofWire(o.get("state").asText()).terminal() ? "result" : "progress")
                        + "\ndata: " + o + "\n\n");
        return resp.header(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .header(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .sendString(events)
                .then();
    }

    private static Mono<Void> json(HttpServerResponse resp, int status, JsonNode value) {
        byte[] body;
        try {
            body = Journal.JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            return Mono.error(e);
        }
        return resp.status(status)
                .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body)))
                .then();
    }

    private static Mono<Void> error(HttpServerRequest req, HttpServerResponse resp, Throwable e) {
        if (resp.hasSentHeaders()) {
            return Mono.error(e);
        }
        BadRequest bad;
        if (e instanceof BadRequest b) {
            bad = b;
        } else {
            LOG.log(Level.WARNING, "jobs API request failed", e);
            bad = new BadRequest(500, "the daemon failed to perform the request: " + e.getMessage());
        }
        if (bad.status == 401) {
            resp.header(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"extentflow\"");
        }
        // read and drop what is left of the body first: closing a socket with unread bytes resets it,
        // which can destroy the reply before the client reads it
        return drain(req).then(json(resp, bad.status, JsonNodeFactory.instance.objectNode().put("error",
                String.valueOf(bad.getMessage()).replace('\n', ' '))));
    }

    /** Reads and drops at most 1 MiB of a refused request's body, for at most a second. */
    private static Mono<Void> drain(HttpServerRequest req) {
        long[] seen = {0};
        return req.receive()
                .takeWhile(b -> (seen[0] += b.readableBytes()) <= (1 << 20))
                .then()
                .timeout(Duration.ofSeconds(1))
                .onErrorResume(x -> Mono.empty());
    }

    private static BadRequest notAllowed(String method, String path) {
        return new BadRequest(405, "method " + method + " not allowed on '" + path + "'");
    }
}
