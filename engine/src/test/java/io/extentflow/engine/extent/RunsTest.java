package io.extentflow.engine.extent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.map.MapEntry;
import io.extentflow.engine.nbd.NbdExtent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** The one merging helper ({@link Runs}, {@link RunMerger}) and the rules of the range types it merges. */
class RunsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Test
    void listMergeJoinsOnlyAdjacentRangesThatSayTheSame() {
        List<Extent> in = List.of(Extent.data(0, 10), Extent.data(10, 5), Extent.zero(15, 5), Extent.hole(20, 5),
                Extent.hole(25, 5), Extent.hole(40, 5));
        // the last hole does not start where the one before it ends, so it stays apart
        assertEquals(List.of(Extent.data(0, 15), Extent.zero(15, 5), Extent.hole(20, 10), Extent.hole(40, 5)),
                Runs.merge(in));
    }

    @Test
    void appendMergesIntoTheLastRangeOfTheList() {
        List<Extent> out = new ArrayList<>();
        Runs.append(out, Extent.zero(0, 4));
        Runs.append(out, Extent.zero(4, 4));
        Runs.append(out, Extent.data(8, 4));
        Runs.append(out, Extent.data(12, 1));
        assertEquals(List.of(Extent.zero(0, 8), Extent.data(8, 5)), out);
    }

    @Test
    void fluxMergeEmitsEachRunOnceTheNextDoesNotContinueIt() {
        Sinks.Many<Extent> in = Sinks.many().unicast().onBackpressureBuffer();
        StepVerifier.create(Runs.merge(in.asFlux()))
                .then(() -> {
                    in.tryEmitNext(Extent.data(0, 4));
                    in.tryEmitNext(Extent.data(4, 4));
                })
                .expectNoEvent(Duration.ZERO) // still growing: nothing is emitted yet
                .then(() -> in.tryEmitNext(Extent.hole(8, 8)))
                .expectNext(Extent.data(0, 8)) // emitted before the input ends: only one run is held
                .then(() -> in.tryEmitComplete())
                .expectNext(Extent.hole(8, 8))
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void fluxMergeKeepsNoStateBetweenSubscriptions() {
        Flux<Extent> merged = Runs.merge(Flux.just(Extent.zero(0, 1), Extent.zero(1, 1)));
        assertEquals(List.of(Extent.zero(0, 2)), merged.collectList().block(TIMEOUT));
        assertEquals(List.of(Extent.zero(0, 2)), merged.collectList().block(TIMEOUT));
    }

    @Test
    void fluxMergeOfNothingIsEmpty() {
        StepVerifier.create(Runs.merge(Flux.<Extent>empty())).expectComplete().verify(TIMEOUT);
    }

    @Test
    void mergerHandsOnCompletedRunsInOrderAndTheLastAtFinish() {
        RunMerger<NbdExtent> merger = new RunMerger<>();
        List<NbdExtent> done = new ArrayList<>();
        merger.add(new NbdExtent(0, 512, 3), done::add);
        merger.add(new NbdExtent(512, 512, 3), done::add);
        assertEquals(List.of(), done);
        merger.add(new NbdExtent(1024, 512, 0), done::add);
        assertEquals(List.of(new NbdExtent(0, 1024, 3)), done);
        assertEquals(Optional.of(new NbdExtent(1024, 512, 0)), merger.finish());
        assertEquals(Optional.empty(), merger.finish(), "finish empties the merger");
    }

    @Test
    void nbdDescriptorsMergeOnEqualStatusOnly() {
        NbdExtent a = new NbdExtent(0, 512, 1);
        assertTrue(a.continuedBy(new NbdExtent(512, 10, 1)));
        assertFalse(a.continuedBy(new NbdExtent(512, 10, 2)));
        assertFalse(a.continuedBy(new NbdExtent(513, 10, 1)));
        assertEquals(new NbdExtent(0, 522, 1), a.mergedWith(new NbdExtent(512, 10, 1)));
    }

    @Test
    void mapEntriesMergeByQemusRule() {
        MapEntry a = new MapEntry(0, 100, 0, true, false, true, 1000L, null);
        assertTrue(a.continuedBy(new MapEntry(100, 50, 0, true, false, true, 1100L, null)));
        assertEquals(new MapEntry(0, 150, 0, true, false, true, 1000L, null),
                a.mergedWith(new MapEntry(100, 50, 0, true, false, true, 1100L, null)));
        assertFalse(a.continuedBy(new MapEntry(100, 50, 0, true, false, true, 5000L, null)), "host gap");
        assertFalse(a.continuedBy(new MapEntry(100, 50, 0, true, false, true, null, null)), "offset vs none");
        assertFalse(a.continuedBy(new MapEntry(100, 50, 1, true, false, true, 1100L, null)), "other depth");
        assertFalse(a.continuedBy(new MapEntry(100, 50, 0, true, true, true, 1100L, null)), "other zero flag");
        assertFalse(a.continuedBy(new MapEntry(100, 50, 0, true, false, true, 1100L, true)), "compressed");
        assertFalse(a.continuedBy(new MapEntry(150, 50, 0, true, false, true, 1150L, null)), "guest gap");
        MapEntry unallocated = new MapEntry(0, 100, 1, false, true, false, null, null);
        assertTrue(unallocated.continuedBy(new MapEntry(100, 7, 1, false, true, false, null, null)),
                "entries without host offsets merge");
    }
}
