package io.extentflow.engine.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.copy.Request.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link RequestPlanner}: small data extents are gathered with the gaps between them into one data
 * request per request-size unit; everything else is cut as before, and the requests cover the
 * extents exactly once, in order.
 */
class RequestPlannerTest {

    private static final long MIB = 1 << 20;
    private static final long KIB = 1 << 10;

    private static List<Request> plan(RequestPlanner planner, List<Extent> extents, long unit) {
        List<Request> out = new ArrayList<>();
        for (Extent e : extents) {
            out.addAll(planner.next(e, unit));
        }
        out.addAll(planner.end());
        return out;
    }

    /** 64 KiB of data at the start of every 128 KiB, the rest a hole: frag-4g.raw in small. */
    private static List<Extent> fragmented(long size) {
        List<Extent> extents = new ArrayList<>();
        for (long off = 0; off < size; off += 128 * KIB) {
            extents.add(Extent.data(off, 64 * KIB));
            extents.add(Extent.hole(off + 64 * KIB, 64 * KIB));
        }
        return extents;
    }

    @Test
    void aFragmentedImageIsOneGatheredRequestPerUnitAndATrailingSkip() {
        List<Request> out = plan(new RequestPlanner(MIB, 1L << 30, true, true), fragmented(8 * MIB), MIB);
        assertEquals(16, out.size(), out::toString); // per MiB: one gathered request, one skip
        for (int i = 0; i < 8; i++) {
            Request gathered = out.get(2 * i);
            assertEquals(Kind.DATA, gathered.kind());
            assertEquals(i * MIB, gathered.offset());
            assertEquals(MIB - 64 * KIB, gathered.length(), "from the first data byte to the last");
            assertEquals(15, gathered.pieces().size(), "8 data pieces and the 7 holes between them");
            assertEquals(8, gathered.pieces().stream().filter(Extent::isData).count());
            Request tail = out.get(2 * i + 1);
            assertEquals(new Request(Kind.SKIP, (i + 1) * MIB - 64 * KIB, 64 * KIB), tail);
        }
        assertCoversOnce(fragmented(8 * MIB), out);
    }

    @Test
    void zerosBetweenPiecesStayZerosAndTheRequestsCoverEveryByteOnce() {
        List<Extent> extents = List.of(Extent.data(0, 4 * KIB), Extent.zero(4 * KIB, 8 * KIB),
                Extent.data(12 * KIB, 4 * KIB), Extent.zero(16 * KIB, MIB - 16 * KIB + 4 * MIB));
        List<Request> out = plan(new RequestPlanner(MIB, 2 * MIB, false, true), extents, MIB);
        assertEquals(List.of(Extent.data(0, 4 * KIB), Extent.zero(4 * KIB, 8 * KIB), Extent.data(12 * KIB, 4 * KIB)),
                out.get(0).pieces());
        // the long zero run after the last data piece is not gathered: zero requests of the sink's size
        assertEquals(new Request(Kind.ZERO, 16 * KIB, 2 * MIB), out.get(1));
        assertEquals(new Request(Kind.ZERO, 16 * KIB + 2 * MIB, 2 * MIB), out.get(2));
        assertEquals(new Request(Kind.ZERO, 16 * KIB + 4 * MIB, MIB - 16 * KIB), out.get(3));
        assertEquals(4, out.size());
        assertCoversOnce(extents, out);
    }

    @Test
    void largeDataIsCutAtUnitBoundariesAsBeforeAndItsTailGathersWithWhatFollows() {
        List<Extent> extents = List.of(Extent.data(0, 2 * MIB + 8 * KIB), Extent.hole(2 * MIB + 8 * KIB, 8 * KIB),
                Extent.data(2 * MIB + 16 * KIB, 4 * KIB), Extent.hole(2 * MIB + 20 * KIB, MIB));
        List<Request> out = plan(new RequestPlanner(MIB, 1L << 30, true, true), extents, MIB);
        assertEquals(new Request(Kind.DATA, 0, MIB), out.get(0));
        assertEquals(new Request(Kind.DATA, MIB, MIB), out.get(1));
        Request gathered = out.get(2);
        assertEquals(2 * MIB, gathered.offset());
        assertEquals(20 * KIB, gathered.length());
        assertEquals(3, gathered.pieces().size());
        assertEquals(new Request(Kind.SKIP, 2 * MIB + 20 * KIB, MIB), out.get(3));
        assertCoversOnce(extents, out);
    }

    @Test
    void aLoneSmallExtentIsAPlainRequest() {
        List<Extent> extents = List.of(Extent.hole(0, MIB), Extent.data(MIB, 4 * KIB), Extent.hole(MIB + 4 * KIB, MIB));
        List<Request> out = plan(new RequestPlanner(MIB, 1L << 30, true, true), extents, MIB);
        assertEquals(List.of(new Request(Kind.SKIP, 0, MIB), new Request(Kind.DATA, MIB, 4 * KIB),
                new Request(Kind.SKIP, MIB + 4 * KIB, MIB)), out);
    }

    @Test
    void dataInTheNextUnitStartsANewRequest() {
        List<Extent> extents = List.of(Extent.data(0, 4 * KIB), Extent.hole(4 * KIB, MIB), Extent.data(MIB + 4 * KIB, 4 * KIB));
        List<Request> out = plan(new RequestPlanner(MIB, 1L << 30, true, true), extents, MIB);
        assertEquals(List.of(new Request(Kind.DATA, 0, 4 * KIB), new Request(Kind.SKIP, 4 * KIB, MIB),
                new Request(Kind.DATA, MIB + 4 * KIB, 4 * KIB)), out);
    }

    @Test
    void anOffloadedCopyGathersNothing() {
        List<Request> out = plan(new RequestPlanner(MIB, 1L << 30, true, true), fragmented(2 * MIB), 64 * MIB);
        assertEquals(32, out.size());
        out.forEach(r -> assertNull(r.pieces(), r::toString));
        assertCoversOnce(fragmented(2 * MIB), out);
    }

    @Test
    void aSequentialSourceGetsEveryExtentAtOnceAndNothingGathered() {
        // a stream's next extent comes only once the previous data is read: nothing may wait for it
        RequestPlanner planner = new RequestPlanner(MIB, 1L << 30, true, false);
        List<Extent> extents = fragmented(MIB);
        for (Extent e : extents) {
            List<Request> out = planner.next(e, MIB);
            assertEquals(List.of(new Request(e.isData() ? Kind.DATA : Kind.SKIP, e.start(), e.length())), out);
        }
        assertEquals(List.of(), planner.end());
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void randomExtentsAreCoveredOnceWithPiecesInsideTheirUnit(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Extent> extents = new ArrayList<>();
        long pos = 0;
        int kind = 0;
        while (pos < 16 * MIB) {
            long len = 512L * (1 + rnd.nextInt(rnd.nextBoolean() ? 64 : 1024));
            kind = (kind + 1 + rnd.nextInt(2)) % 3; // never two of a kind in a row, as sources merge them
            extents.add(switch (kind) {
                case 0 -> Extent.data(pos, len);
                case 1 -> Extent.zero(pos, len);
                default -> rnd.nextBoolean() ? Extent.hole(pos, len) : new Extent(pos, len, false, true);
            });
            pos += len;
        }
        long unit = 256 * KIB;
        List<Request> out = plan(new RequestPlanner(unit, MIB, rnd.nextBoolean(), true), extents, unit);
        assertCoversOnce(extents, out);
        int gathered = 0;
        for (Request r : out) {
            if (r.gathered()) {
                gathered++;
                assertEquals(r.offset() / unit, (r.end() - 1) / unit, "inside one unit: " + r);
                assertTrue(r.pieces().getFirst().isData() && r.pieces().getLast().isData(), r::toString);
            } else if (r.kind() == Kind.DATA) {
                assertTrue(r.length() <= unit, r::toString);
            }
        }
        assertTrue(gathered > 0, "small extents were gathered");
        assertTrue(out.size() < extents.size(), out.size() + " requests for " + extents.size() + " extents");
    }

    /**
     * Every byte of the extents is in exactly one request, in order, and with its extent's meaning:
     * data in a data request (or a data piece), zeros in a zero or skip request (or a zero piece),
     * holes skipped (or a hole piece).
     */
    private static void assertCoversOnce(List<Extent> extents, List<Request> requests) {
        List<Extent> seen = new ArrayList<>();
        for (Request r : requests) {
            if (r.gathered()) {
                long at = r.offset();
                for (Extent p : r.pieces()) {
                    assertEquals(at, p.start(), "pieces are contiguous: " + r);
                    at = p.end();
                    seen.add(p);
                }
                assertEquals(r.end(), at, r::toString);
            } else {
                seen.add(switch (r.kind()) {
                    case DATA -> Extent.data(r.offset(), r.length());
                    case ZERO -> Extent.zero(r.offset(), r.length());
                    case SKIP -> new Extent(r.offset(), r.length(), kindAt(extents, r.offset()).zero(),
                            kindAt(extents, r.offset()).hole());
                });
            }
        }
        long pos = 0;
        for (Extent s : seen) {
            assertEquals(pos, s.start(), "contiguous at " + pos);
            Extent source = kindAt(extents, s.start());
            assertTrue(s.end() <= source.end(), "a request stays inside one extent: " + s);
            assertEquals(source.isData(), s.isData(), "same kind at " + s.start());
            assertEquals(source.zero(), s.zero(), "same kind at " + s.start());
            pos = s.end();
        }
        assertEquals(extents.getLast().end(), pos);
    }

    private static Extent kindAt(List<Extent> extents, long offset) {
        for (Extent e : extents) {
            if (e.start() <= offset && offset < e.end()) {
                return e;
            }
        }
        throw new AssertionError("no extent at " + offset);
    }
}
