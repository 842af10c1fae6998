package io.extentflow.engine.copy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ForwardingImageSink;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.capability.ExtentPlan;
import io.extentflow.engine.capability.SinkCapability;
import io.extentflow.engine.testing.MemoryImage;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** A sink that asks for the extent plan gets the source's whole extent list before any request. */
class ExtentPlanCopyTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** A sink that records its plan and counts requests made before it. */
    private record PlanningSink(ImageSink delegate, AtomicReference<List<Extent>> planned, AtomicInteger early,
                                boolean refuse) implements ForwardingImageSink, ExtentPlan {

        PlanningSink(ImageSink delegate, boolean refuse) {
            this(delegate, new AtomicReference<>(), new AtomicInteger(), refuse);
        }

        @Override
        public <C extends SinkCapability> Optional<C> sinkCapability(Class<C> type) {
            return type == ExtentPlan.class ? Optional.of(type.cast(this)) : Optional.empty();
        }

        @Override
        public Mono<Void> plan(List<Extent> extents) {
            return refuse ? Mono.error(new IllegalStateException("no room for this layout"))
                    : Mono.fromRunnable(() -> planned.set(extents));
        }

        @Override
        public Mono<Void> write(long offset, ByteBuffer data) {
            if (planned.get() == null) {
                early.incrementAndGet();
            }
            return delegate.write(offset, data);
        }

        @Override
        public Mono<Void> skip(long offset, long length) {
            if (planned.get() == null) {
                early.incrementAndGet();
            }
            return delegate.skip(offset, length);
        }
    }

    @Test
    void thePlanIsTheSourcesExtentListAndComesBeforeTheFirstRequest() {
        MemoryImage src = CopyTest.randomSource(3 << 20, 71);
        MemoryImage dst = MemoryImage.sink(3 << 20, true);
        PlanningSink sink = new PlanningSink(dst, false);
        CopyResult r = Copy.from(src).to(sink).options(CopyOptions.defaults().withRequestSize(64 << 10)
                .withMaxInFlight(256 << 10)).run().block(TIMEOUT);
        assertArrayEquals(src.bytes(), dst.bytes());
        assertEquals(0, sink.early().get(), "requests before the plan");
        int copyFetches = src.windowFetches();
        List<Extent> expected = src.extents(0, src.size()).collectList().block(TIMEOUT);
        assertEquals(expected, sink.planned().get());
        assertEquals(src.size(), r.dataBytes() + r.zeroedBytes() + r.skippedBytes());
        assertEquals(src.windowFetches() - copyFetches, copyFetches, "the copy asks for the source's extents once");
    }

    @Test
    void aRefusedPlanFailsTheCopyBeforeAnythingIsRead() {
        MemoryImage src = CopyTest.randomSource(1 << 20, 72);
        PlanningSink sink = new PlanningSink(MemoryImage.sink(1 << 20, true), true);
        StepVerifier.create(Copy.from(src).to(sink).run())
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("no room for this layout"), e.getMessage()))
                .verify(TIMEOUT);
        assertEquals(0, src.reads());
    }

    @Test
    void aPlannedTargetCannotBeResumedMidway() {
        MemoryImage src = CopyTest.randomSource(1 << 20, 73);
        PlanningSink sink = new PlanningSink(MemoryImage.sink(1 << 20, true), false);
        StepVerifier.create(Copy.from(src).to(sink).resumeAt(4096).run())
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("cannot be resumed"), e.getMessage()))
                .verify(TIMEOUT);
        assertEquals(0, src.reads());
    }
}
