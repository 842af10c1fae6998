package io.extentflow.server;

import io.netty.util.ReferenceCounted;
import java.time.Duration;
import java.util.function.Consumer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.http.server.HttpServerRequest;

/** What every transfer of the data API needs: safe image I/O, cancellation and inactivity. */
final class Transfers {

    /**
     * Reactor's context key for a local "onNextDropped" hook ({@code Hooks.KEY_ON_NEXT_DROPPED}, not
     * public). {@code TransfersTest} fails if a Reactor upgrade renames it.
     */
    static final String ON_NEXT_DROPPED = "reactor.onNextDropped.local";

    private Transfers() {
    }

    /**
     * Runs {@code io} to its end even if the subscriber cancels, and runs {@code release} once it
     * has ended, whatever the outcome, before passing the outcome on. An image operation once
     * started must finish: cancelling a {@code FileChannel} read or write interrupts its thread,
     * which closes the file for every request of the ticket. So a buffer is given back only when the
     * I/O that fills or drains it has ended, and always by {@code release}: a release left to the
     * subscriber's success signal was lost when the cancel came just before it.
     */
    static Mono<Void> detached(Mono<Void> io, Runnable release) {
        return Mono.create(sink -> io.subscribe(null, e -> {
            release.run();
            sink.error(e);
        }, () -> {
            release.run();
            sink.success();
        }));
    }

    /**
     * Cancellation, activity and inactivity for a transfer in progress: every item moved re-arms the
     * ticket's expiry; the transfer fails when the ticket is canceled (deleted or expired) or when no
     * item moved within the ticket's inactivity timeout, and then the
     * connection is closed at once. (A response stuck behind a client that stopped reading would
     * otherwise wait for its pending writes forever.)
     */
    static <T> Flux<T> guard(HttpServerRequest req, TicketState state, Flux<T> transfer) {
        return Flux.defer(() -> {
            Connection[] connection = new Connection[1];
            req.withConnection(c -> connection[0] = c);
            return guard(state, transfer, () -> {
                if (connection[0] != null) {
                    connection[0].dispose();
                }
            });
        });
    }

    /**
     * {@link #guard(HttpServerRequest, TicketState, Flux)} with the connection's close as {@code cut}.
     *
     * <p>The items are buffers that somebody must release. {@code timeout} and {@code takeUntilOther}
     * drop an item that races with the timeout or the cancel: Reactor calls that "onNextDropped",
     * which by default only logs it, not "discard". So two context hooks release every
     * reference-counted item dropped or discarded inside the guard. Without them a download cut
     * while a read was finishing kept one server buffer forever.
     */
    static <T> Flux<T> guard(TicketState state, Flux<T> transfer, Runnable cut) {
        Duration inactivity = Duration.ofSeconds(Math.max(1, state.ticket.inactivityTimeout()));
        return transfer
                .doOnNext(item -> state.touch()) // progress is activity: keeps the ticket from expiring
                .timeout(inactivity)
                .takeUntilOther(state.canceledSignal())
                .concatWith(Mono.defer(() -> state.canceled()
                        ? Mono.error(ApiError.forbidden("Transfer " + state.ticket.transferId() + " was canceled"))
                        : Mono.empty()))
                .doOnError(e -> cut.run())
                .doOnDiscard(ReferenceCounted.class, Transfers::release)
                .contextWrite(context -> context.put(ON_NEXT_DROPPED, (Consumer<Object>) Transfers::release));
    }

    /**
     * Releases a dropped or discarded buffer once: hooks compose, so two of them may see the same
     * item, and only the first may release it.
     */
    static void release(Object item) {
        if (item instanceof ReferenceCounted r && r.refCnt() > 0) {
            r.release();
        }
    }
}
