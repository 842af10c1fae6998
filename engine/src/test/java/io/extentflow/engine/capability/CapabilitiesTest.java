package io.extentflow.engine.capability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.nbd.NbdExtent;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Capabilities are found by the interface they were offered as, and sources offer none by default. */
class CapabilitiesTest {

    private static final AllocationDepth DEPTH = (start, length) -> Flux.just(new NbdExtent(start, length, 1));
    private static final AllocationExtents ALLOCATION = (start, length) -> Flux.just(new NbdExtent(start, length, 3));

    @Test
    void aCapabilityIsFoundUnderTheTypeItWasOfferedAs() {
        Capabilities c = Capabilities.none().with(AllocationDepth.class, DEPTH);
        assertSame(DEPTH, c.get(AllocationDepth.class).orElseThrow());
        assertEquals(Optional.empty(), c.get(AllocationExtents.class));
        assertEquals(Optional.empty(), c.get(HostOffsets.class));
        // not under a supertype: a caller asks for what it means to print
        assertEquals(Optional.empty(), c.get(StatusMap.class));
    }

    @Test
    void offeringMoreLeavesTheEarlierSetAlone() {
        Capabilities one = Capabilities.none().with(AllocationDepth.class, DEPTH);
        Capabilities two = one.with(AllocationExtents.class, ALLOCATION);
        assertSame(ALLOCATION, two.get(AllocationExtents.class).orElseThrow());
        assertSame(DEPTH, two.get(AllocationDepth.class).orElseThrow());
        assertEquals(Optional.empty(), one.get(AllocationExtents.class));
        assertEquals(Optional.empty(), Capabilities.none().get(AllocationDepth.class));
    }

    @Test
    void aViewOfAnotherTypeIsRefused() {
        @SuppressWarnings({"unchecked", "rawtypes"})
        Class<AllocationDepth> wrong = (Class) AllocationExtents.class;
        assertThrows(ClassCastException.class, () -> Capabilities.none().with(wrong, DEPTH));
    }

    @Test
    void statusMapsNameTheirContext() {
        assertEquals("base:allocation", ALLOCATION.context());
        assertEquals("qemu:allocation-depth", DEPTH.context());
    }

    @Test
    void aSourceOffersNothingByDefault() {
        ImageSource plain = new ImageSource() {
            @Override
            public String endpoint() {
                return "test:";
            }

            @Override
            public String format() {
                return "raw";
            }

            @Override
            public long size() {
                return 0;
            }

            @Override
            public Flux<Extent> extents(long start, long length) {
                return Flux.empty();
            }

            @Override
            public Mono<Void> read(long offset, ByteBuffer target) {
                return Mono.empty();
            }

            @Override
            public void close() {
            }
        };
        assertEquals(Optional.empty(), plain.capability(HostOffsets.class));
        assertEquals(Optional.empty(), plain.capability(AllocationExtents.class));
    }
}
