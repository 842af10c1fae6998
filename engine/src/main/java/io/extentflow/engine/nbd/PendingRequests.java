package io.extentflow.engine.nbd;

import io.netty.util.collection.LongObjectHashMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The requests of one connection that are not finished: those sent, by cookie, and those waiting
 * for a free slot ({@link NbdClientOptions#requestsPerConnection()} may be in flight at once), in
 * order. Event loop only, but for {@link #load()}.
 */
final class PendingRequests {

    private final int maxInFlight;
    private final LongObjectHashMap<PendingRequest> inFlight = new LongObjectHashMap<>();
    private final ArrayDeque<PendingRequest> waiting = new ArrayDeque<>();
    /** Submitted and not finished, whether handed to the event loop yet or not: any thread. */
    private final AtomicInteger load = new AtomicInteger();
    private long nextCookie = 1;
    /** Reads sent whose data can be received in place (direct targets), not yet finished. */
    private int inPlaceReads;

    PendingRequests(int maxInFlight) {
        this.maxInFlight = maxInFlight;
    }

    /** Counts a request from the moment it is submitted (any thread). */
    void submitted() {
        load.incrementAndGet();
    }

    /** Requests submitted and not yet finished: used to spread requests over connections (any thread). */
    int load() {
        return load.get();
    }

    /** True when another request may be sent now. */
    boolean hasRoom() {
        return inFlight.size() < maxInFlight;
    }

    /** Nothing in flight and nothing waiting. */
    boolean isIdle() {
        return inFlight.isEmpty() && waiting.isEmpty();
    }

    /** Gives {@code p} the next cookie and records it as in flight; returns the cookie. */
    long sent(PendingRequest p) {
        long cookie = nextCookie++;
        p.cookie = cookie;
        inFlight.put(cookie, p);
        if (p.receivesInPlace()) {
            inPlaceReads++;
        }
        return cookie;
    }

    /** A cookie for a request that gets no reply (NBD_CMD_DISC). */
    long cookieWithoutReply() {
        return nextCookie++;
    }

    /** The request in flight with this cookie, or null. */
    PendingRequest inFlight(long cookie) {
        return inFlight.get(cookie);
    }

    /** True when some read sent may receive its data in place. */
    boolean awaitsInPlaceData() {
        return inPlaceReads > 0;
    }

    void queue(PendingRequest p) {
        waiting.add(p);
    }

    /** Takes {@code p} out of the queue; false when it is not waiting (sent already, or finished). */
    boolean unqueue(PendingRequest p) {
        return waiting.remove(p);
    }

    /** The next waiting request if there is room to send it, else null. */
    PendingRequest nextToSend() {
        return waiting.isEmpty() || !hasRoom() ? null : waiting.poll();
    }

    /** Forgets a finished request. */
    void finished(PendingRequest p) {
        if (p.cookie != 0) {
            inFlight.remove(p.cookie);
            if (p.receivesInPlace()) {
                inPlaceReads--;
            }
        }
        load.decrementAndGet();
    }

    /** The requests in flight now, in a list of their own. */
    List<PendingRequest> sentNow() {
        return new ArrayList<>(inFlight.values());
    }

    /** Empties the queue; returns what was in it, in order. */
    List<PendingRequest> takeWaiting() {
        List<PendingRequest> unsent = new ArrayList<>(waiting);
        waiting.clear();
        return unsent;
    }
}
