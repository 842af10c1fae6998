package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ForwardingImageSource;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.engine.imageio.Ticket;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.server.ImageServer;
import io.extentflow.server.ServerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * The server stops in the middle of a copy and comes back on the same port with the same ticket
 * within the client's retry window: the copy completes, byte for byte, in both directions.
 *
 * <p>Deterministic: the copy is held at a chosen offset until the server has stopped, so the rest
 * of the image must come from the second server; and the second server starts only after the client
 * logged a retry against the stopped one.
 */
class HttpRetryTest {

    private static final long SIZE = 16L << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    /** About a minute of retrying (backoff doubling from 0.1 s up to 2 s): far longer than a restart takes. */
    private static final EndpointOptions RETRYING = EndpointOptions.defaults().with(HttpOptions.RETRIES, 30);
    private static final CopyOptions SMALL_REQUESTS = CopyOptions.defaults().withRequestSize(256 << 10)
            .withMaxInFlight(1 << 20).withDetectZeroes(false);

    @TempDir
    Path dir;

    @Test
    void downloadCompletesWhenTheServerComesBackWithinTheRetryWindow() throws Exception {
        Path image = dir.resolve("image.raw");
        long stopAt = stopOffset(TestImages.randomSparseRaw(image, SIZE, 41, 70, 1 << 20));
        Path out = dir.resolve("out.raw");
        try (Restarting server = new Restarting(ticket("dl", image, "read"))) {
            try (ImageSource src = new StoppingSource(Endpoints.source(server.url(), RETRYING).block(TIMEOUT),
                         new StopOnce(stopAt, server.stop()));
                 ImageSink dst = Endpoints.sink(out.toString(), SIZE).block(TIMEOUT)) {
                Copy.from(src).to(dst).options(SMALL_REQUESTS).run().block(TIMEOUT);
            }
            TestImages.assertSameContent(image, out);
            server.assertBothServed("read");
        }
    }

    @Test
    void uploadCompletesWhenTheServerComesBackWithinTheRetryWindow() throws Exception {
        Path image = dir.resolve("image.raw");
        long stopAt = stopOffset(TestImages.randomSparseRaw(image, SIZE, 43, 70, 1 << 20));
        Path target = dir.resolve("target.raw");
        try (Restarting server = new Restarting(ticket("up", target, "write"))) {
            try (ImageSource src = new StoppingSource(Endpoints.source(image.toString()).block(TIMEOUT),
                         new StopOnce(stopAt, server.stop()));
                 ImageSink dst = Endpoints.sink(server.url(), SIZE, RETRYING).block(TIMEOUT)) {
                Copy.from(src).to(dst).options(SMALL_REQUESTS).run().block(TIMEOUT);
            }
            TestImages.assertSameContent(image, target);
            server.assertBothServed("write");
        }
    }

    /** Where to stop the server: a run start with at least 2 MiB of data before it and 4 MiB after. */
    private static long stopOffset(List<TestImages.Run> runs) {
        long total = runs.stream().mapToLong(TestImages.Run::length).sum();
        long before = 0;
        for (TestImages.Run r : runs) {
            if (before >= (2 << 20) && total - before >= (4 << 20)) {
                return r.offset();
            }
            before += r.length();
        }
        throw new AssertionError("the test image has too little data");
    }

    private static Ticket ticket(String id, Path file, String op) {
        return new Ticket(id, SIZE, "file://" + file.toAbsolutePath(), Set.of(op), 300, 60, false, "transfer-" + id,
                null);
    }

    /**
     * A server that stops when asked and starts again on the same port, with the same ticket, as soon
     * as a client logged a retry (the image client logs one line per retry).
     */
    private static final class Restarting implements AutoCloseable {
        private final Ticket ticket;
        private final SimpleMeterRegistry first = new SimpleMeterRegistry();
        private final SimpleMeterRegistry second = new SimpleMeterRegistry();
        private final Logger clientLog = Logger.getLogger("io.extentflow.engine.imageio");
        private final Sinks.Empty<Void> retried = Sinks.empty();
        private final AtomicBoolean stopped = new AtomicBoolean();
        private final Handler retries = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (stopped.get() && record.getMessage().startsWith("retrying ")) {
                    retried.tryEmitEmpty();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        private final int port;
        private volatile ImageServer current;

        Restarting(Ticket ticket) {
            this.ticket = ticket;
            current = start(0, first).block(TIMEOUT);
            port = current.port();
            clientLog.addHandler(retries);
        }

        private Mono<ImageServer> start(int onPort, SimpleMeterRegistry registry) {
            return ImageServer.start(ServerConfig.defaults().withPort(onPort), registry, null, null, List.of(ticket));
        }

        String url() {
            return current.imageUrl(ticket.uuid());
        }

        /** Stops the server (completing when it stopped) and arranges its restart after the next retry. */
        Mono<Void> stop() {
            return Mono.fromRunnable(() -> {
                        current.close();
                        stopped.set(true);
                        retried.asMono().then(start(port, second)).subscribe(s -> current = s);
                    })
                    .subscribeOn(Schedulers.boundedElastic())
                    .then();
        }

        /** Each server moved some of the image's bytes (read: sent, write: received). */
        void assertBothServed(String op) {
            double before = first.counter("extentflow.server.bytes", "op", op).count();
            double after = second.counter("extentflow.server.bytes", "op", op).count();
            assertTrue(stopped.get(), "the server was stopped");
            assertTrue(before > 0 && after > 0, "bytes " + op + " before the restart " + before + ", after " + after);
        }

        @Override
        public void close() {
            clientLog.removeHandler(retries);
            current.close();
        }
    }

    /**
     * Runs {@code stop} once, at the first operation at or after {@code at}, and holds every operation
     * at or after {@code at} until the server has stopped. Holding only the first would let the copy's
     * other requests run on against the first server while it stops (it did, on a busy machine: the
     * second server then had nothing left to serve).
     */
    private record StopOnce(long at, Mono<Void> stop) {
        StopOnce {
            stop = stop.cache();
        }

        Mono<Void> before(long offset, Mono<Void> operation) {
            return offset >= at ? stop.then(operation) : operation;
        }
    }

    /** A source whose reads at or after the trigger's offset wait for the server to stop. */
    private record StoppingSource(ImageSource delegate, StopOnce trigger) implements ForwardingImageSource {
        @Override
        public Mono<Void> read(long offset, ByteBuffer target) {
            return trigger.before(offset, Mono.defer(() -> delegate.read(offset, target)));
        }
    }
}
