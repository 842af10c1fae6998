package io.extentflow.embed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyProgress;
import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.EndpointPair;
import io.extentflow.engine.endpoint.Endpoints;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * A microservice that embeds the extentflow library (not the daemon): {@code POST /copy} with
 * {@code {"source": ADDRESS, "target": ADDRESS, "options": {...}}} (options optional: endpoint options
 * by name, see {@link Endpoints#options()}) runs the copy and streams its progress to the
 * caller as NDJSON, one line at most every 200 ms and always the last one; a failure is a last line
 * {@code {"error": ...}}. A caller that hangs up cancels the copy (its source and sink are closed).
 *
 * <p>Run it with {@code java -cp extentflow.jar io.extentflow.embed.CopyService 8080} and try
 * {@code curl -N -d '{"source":"a.qcow2","target":"b.raw"}' localhost:8080/copy}.
 */
public final class CopyService {

    private static final ObjectMapper JSON = new ObjectMapper();

    private CopyService() {
    }

    /** Starts the service on loopback {@code port} (0: any free port). */
    public static DisposableServer start(int port) {
        // the first use of Endpoints loads the endpoint providers from the class path (file reads):
        // do it here, on the caller's thread, not on an event loop
        Endpoints.knowsSource("/");
        return HttpServer.create().host("127.0.0.1").port(port)
                .route(routes -> routes.post("/copy", CopyService::copy))
                .bindNow();
    }

    private static Publisher<Void> copy(HttpServerRequest req, HttpServerResponse resp) {
        Flux<String> lines = req.receive().aggregate().asString()
                .map(CopyService::parse)
                .doOnNext(CopyService::requireApplicable)
                // both ends open at once, and close when the copy ends, fails or is cancelled
                .flatMapMany(r -> Flux.usingWhen(
                        Endpoints.pair(r.get("source").asText(), options(r), r.get("target").asText(), options(r)),
                        p -> Copy.from(p.source()).to(p.sink()).progress(),
                        EndpointPair::closeGracefully))
                .sample(Duration.ofMillis(200)) // throttled; the last progress is always sent
                .map(CopyService::line)
                .onErrorResume(e -> Mono.just(line(Map.of("error", ImageIoException.reason(e)))));
        return resp.header("Content-Type", "application/x-ndjson").sendString(lines);
    }

    private static JsonNode parse(String body) {
        try {
            JsonNode r = JSON.readTree(body);
            if (r == null || !r.path("source").isTextual() || !r.path("target").isTextual()) {
                throw new IllegalArgumentException("expected {\"source\": ADDRESS, \"target\": ADDRESS}");
            }
            return r;
        } catch (IOException e) {
            throw new IllegalArgumentException("malformed JSON: " + e.getMessage());
        }
    }

    /**
     * The request's {@code "options"}: endpoint options by name, as the command line's flags without their
     * dashes or the daemon's JSON keys ({@code {"output-format": "qcow2", "cluster_size": "2M"}}).
     */
    private static EndpointOptions options(JsonNode r) {
        EndpointOptions options = EndpointOptions.defaults();
        for (Map.Entry<String, JsonNode> e : r.path("options").properties()) {
            EndpointOption<?> option = Endpoints.option(e.getKey());
            JsonNode v = e.getValue();
            // a bare flag, or an option given without its value ("compress": true), takes its implicit value
            String text = v.isBoolean() && v.asBoolean() && option.implicitValue() != null ? option.implicitValue()
                    : v.asText();
            options = options.withParsed(option, text);
        }
        return options;
    }

    /** Refuses an option that neither end takes ({@code "compress"} for a raw target), naming it as the caller did. */
    private static void requireApplicable(JsonNode r) {
        Map<EndpointOption<?>, String> keys = new HashMap<>();
        r.path("options").properties().forEach(e -> keys.put(Endpoints.option(e.getKey()), e.getKey()));
        Endpoints.requireApplicable(r.get("source").asText(), r.get("target").asText(), options(r),
                option -> "\"" + keys.getOrDefault(option, option.name()) + "\"");
    }

    private static String line(CopyProgress p) {
        return line(Map.of("size", p.size(), "done", p.done(), "data", p.dataBytes(), "zeroed", p.zeroedBytes(),
                "skipped", p.skippedBytes(), "seconds", p.elapsed().toMillis() / 1000.0));
    }

    private static String line(Map<String, ?> fields) {
        try {
            return JSON.writeValueAsString(fields) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs the service until the process is stopped. */
    public static void main(String[] args) {
        DisposableServer server = start(args.length > 0 ? Integer.parseInt(args[0]) : 8080);
        System.out.println("copy service on http://127.0.0.1:" + server.port() + "/copy");
        server.onDispose().block();
    }
}
