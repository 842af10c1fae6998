package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.TestImages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/** Peers that go away: clients disconnecting mid-transfer, tickets deleted mid-transfer, the server stopping. */
class HttpFaultsTest {

    private static final long SIZE = 16L << 20;

    @TempDir
    Path dir;
    private Path image() throws Exception {
        Path image = dir.resolve("full.raw");
        TestImages.randomSparseRaw(image, SIZE, 31, 100, 1 << 20);
        return image;
    }

    @Test
    void clientDisconnectingMidDownloadReleasesEverything() throws Exception {
        Path image = image();
        try (ServerFixture f = new ServerFixture(dir)) {
            f.addTicket("t", image, SIZE, "read");
            AtomicLong got = new AtomicLong();
            // read the first megabyte, then drop the connection
            Long read = f.data.get().uri("/images/t")
                    .response((resp, body) -> body.map(ByteBuf::readableBytes)
                            .takeUntil(n -> got.addAndGet(n) >= (1 << 20)))
                    .then(Mono.fromSupplier(got::get))
                    .block(ServerFixture.TIMEOUT);
            assertTrue(read >= (1 << 20) && read < SIZE, "read " + read);
            ServerFixture.await("buffers back", () -> f.server.buffersInUse() == 0);
            assertTrue(f.lines(f.request(f.control, HttpMethod.GET, "/tickets/t", null).body()).get(0)
                    .contains("\"active\":false"));
            assertEquals(206, f.request(f.data, HttpMethod.GET, "/images/t", null,
                    h -> h.set(HttpHeaderNames.RANGE, "bytes=0-99")).status());
        }
    }

    @Test
    void clientDisconnectingMidUploadReleasesEverything() throws Exception {
        Path target = dir.resolve("target.raw");
        try (ServerFixture f = new ServerFixture(dir)) {
            f.addTicket("w", target, SIZE, "write");
            // announce 8 MiB, send 1 MiB, then fail the request body: the connection is closed
            Flux<ByteBuf> body = Flux.range(0, 16).map(i -> Unpooled.wrappedBuffer(new byte[64 << 10]))
                    .concatWith(Mono.error(new IllegalStateException("client gave up")));
            assertThrows(RuntimeException.class, () -> f.data
                    .headers(h -> h.set(HttpHeaderNames.CONTENT_LENGTH, 8 << 20))
                    .put().uri("/images/w").send(body)
                    .responseSingle((r, b) -> b.then(Mono.just(r.status().code())))
                    .block(ServerFixture.TIMEOUT));
            ServerFixture.await("upload ended", () -> f.lines(f.request(f.control, HttpMethod.GET, "/tickets/w", null).body())
                    .get(0).contains("\"active\":false"));
            ServerFixture.await("buffers back", () -> f.server.buffersInUse() == 0);
            assertEquals(200, f.request(f.data, HttpMethod.PATCH, "/images/w", "{\"op\":\"flush\"}").status());
        }
    }

    @Test
    void deletingATicketCancelsATransferInFlight() throws Exception {
        Path image = image();
        try (ServerFixture f = new ServerFixture(dir)) {
            f.addTicket("d", image, SIZE, "read");
            Sinks.Empty<Void> gate = Sinks.empty();
            AtomicLong got = new AtomicLong();
            // a client that reads one buffer and then stalls until the ticket was deleted
            Mono<Long> download = f.data.get().uri("/images/d")
                    .response((resp, body) -> body.map(ByteBuf::readableBytes)
                            .concatMap(n -> got.getAndAdd(n) == 0 ? gate.asMono().thenReturn(n) : Mono.just(n), 1))
                    .then(Mono.fromSupplier(got::get))
                    .onErrorResume(e -> Mono.just(-got.get()))
                    .cache();
            download.subscribe();
            ServerFixture.await("transfer started", () -> got.get() > 0);
            ServerFixture.Reply deleted = f.request(f.control, HttpMethod.DELETE, "/tickets/d", null);
            assertEquals(204, deleted.status());
            gate.tryEmitEmpty();
            long result = download.block(ServerFixture.TIMEOUT);
            assertTrue(Math.abs(result) < SIZE, "the download was cut short, got " + result);
            ServerFixture.await("buffers back", () -> f.server.buffersInUse() == 0);
            assertEquals(403, f.request(f.data, HttpMethod.GET, "/images/d", null).status());
        }
    }

    @Test
    void serverStoppingMidCopyGivesAClearError() throws Exception {
        Path image = image();
        ServerFixture f = new ServerFixture(dir);
        String url = f.addTicket("s", image, SIZE, "read");
        try (ImageSource src = Endpoints.source(url).block(ServerFixture.TIMEOUT);
             ImageSink dst = Endpoints.sink(dir.resolve("out.raw").toString(), SIZE).block(ServerFixture.TIMEOUT)) {
            Flux<?> copy = Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(256 << 10)
                            .withMaxInFlight(1 << 20).withDetectZeroes(false))
                    .progress()
                    .publishOn(Schedulers.boundedElastic())
                    .index()
                    .doOnNext(p -> {
                        if (p.getT1() == 2) {
                            f.close();
                        }
                    });
            ImageIoException e = assertThrows(ImageIoException.class, () -> copy.blockLast(ServerFixture.TIMEOUT));
            assertTrue(e.getMessage().contains(url), e.getMessage());
        } finally {
            f.close();
        }
    }
}
