package io.extentflow.server;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.http.server.HttpServerRequest;

/** What every transfer of the data API needs: safe image I/O, cancellation and inactivity. */
final class Transfers {

    private Transfers() {
    }

    /**
     * Runs {@code io} to its end even if the subscriber cancels, and runs {@code release} when it
     * failed or ended after a cancel. An image operation once started must finish: cancelling a
     * {@code FileChannel} read or write interrupts its thread, which closes the file for every request
     * of the ticket. So a buffer of a cancelled request is given back only when the I/O that fills or
     * drains it has ended.
     */
    static Mono<Void> detached(Mono<Void> io, Runnable release) {
        return Mono.create(sink -> {
            AtomicBoolean cancelled = new AtomicBoolean();
            sink.onCancel(() -> cancelled.set(true));
            io.subscribe(null, e -> {
                release.run();
                sink.error(e);
            }, () -> {
                if (cancelled.get()) {
                    release.run();
                } else {
                    sink.success();
                }
            });
        });
    }

    /**
     * Cancellation, activity and inactivity for a transfer in progress: every item moved re-arms the
     * ticket's expiry; the transfer fails when the ticket is canceled (deleted or expired) or when no
     * item moved within the ticket's inactivity timeout, and then the
     * connection is closed at once. (A response stuck behind a client that stopped reading would
     * otherwise wait for its pending writes forever.)
     */
    static <T> Flux<T> guard(HttpServerRequest req, TicketState state, Flux<T> transfer) {
        Duration inactivity = Duration.ofSeconds(Math.max(1, state.ticket.inactivityTimeout()));
        return Flux.defer(() -> {
            Connection[] connection = new Connection[1];
            req.withConnection(c -> connection[0] = c);
            return transfer
                    .doOnNext(item -> state.touch()) // progress is activity: keeps the ticket from expiring
                    .timeout(inactivity)
                    .takeUntilOther(state.canceledSignal())
                    .concatWith(Mono.defer(() -> state.canceled()
                            ? Mono.error(ApiError.forbidden("Transfer " + state.ticket.transferId() + " was canceled"))
                            : Mono.empty()))
                    .doOnError(e -> {
                        if (connection[0] != null) {
                            connection[0].dispose();
                        }
                    });
        });
    }
}
