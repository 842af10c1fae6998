package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** 32 downloads and 8 uploads at once through one server: all complete, all byte-identical, nothing held. */
class HttpLoadTest {

    private static final long SIZE = 2L << 20;

    @TempDir
    Path dir;

    private static Mono<CopyResult> copy(String from, String to) {
        return Mono.usingWhen(Endpoints.source(from),
                src -> Mono.usingWhen(Endpoints.sink(to, src.size()),
                        dst -> Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(256 << 10)
                                .withMaxInFlight(1 << 20)).run(),
                        dst -> Mono.fromRunnable(dst::close)),
                src -> Mono.fromRunnable(src::close));
    }

    @Test
    void manyConcurrentTransfers() throws Exception {
        Path image = dir.resolve("img.raw");
        TestImages.randomSparseRaw(image, SIZE, 99, 60, 128 << 10);
        try (ServerFixture f = new ServerFixture(dir)) {
            List<Mono<CopyResult>> copies = new ArrayList<>();
            List<Path> targets = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                Path out = dir.resolve("down" + i + ".raw");
                targets.add(out);
                copies.add(copy(f.addTicket("r" + i, image, SIZE, "read"), out.toString()));
            }
            for (int i = 0; i < 8; i++) {
                Path up = dir.resolve("up" + i + ".raw");
                targets.add(up);
                copies.add(copy(image.toString(), f.addTicket("w" + i, up, SIZE, "write")));
            }
            List<CopyResult> results = Flux.merge(copies).collectList().block(Duration.ofSeconds(120));
            assertEquals(40, results.size());
            for (Path t : targets) {
                TestImages.assertSameContent(image, t);
            }
            assertEquals(0, f.server.buffersInUse());
        }
    }
}
