package io.extentflow.server;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.io.BlockingIo;
import java.util.logging.Level;
import java.util.logging.Logger;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Faults a client causes and the server expects: a connection dropped mid-request, a request the
 * HTTP decoder cannot read (e.g. 10,000 headers). Each is logged as one line; its stack trace only
 * at {@code FINE}, since a client can cause any number of them and they say nothing about the server.
 */
final class ClientFaults {

    private static final Logger LOG = Logger.getLogger("io.extentflow.server");

    private ClientFaults() {
    }

    /**
     * True when the client's connection is gone: there is nobody left to answer, whatever error the
     * request ended with (typically Reactor Netty's {@code AbortedException}). Asking the
     * connection, not the error, keeps a reset from a backend (e.g. an NBD server) a 500.
     */
    static boolean clientGone(HttpServerResponse resp) {
        boolean[] active = {true};
        resp.withConnection(c -> active[0] = c.channel().isActive());
        return !active[0];
    }

    /** Logs {@code line} at {@code level}, and {@code t} with it at FINE, off the event loop (logging writes to a stream). */
    static void log(Level level, String line, Throwable t) {
        BlockingIo.run(() -> {
            LOG.log(level, line);
            if (t != null && LOG.isLoggable(Level.FINE)) {
                LOG.log(Level.FINE, line, t);
            }
        }).subscribe();
    }

    /** A disconnected client: one INFO line naming the request's method and route (never the ticket id, a secret). */
    static void logDisconnect(String method, String route, Throwable t) {
        logDisconnect(method, route, ImageIoException.reason(t), t);
    }

    /** {@link #logDisconnect(String, String, Throwable)} with the reason in words; {@code t} may be null. */
    static void logDisconnect(String method, String route, String reason, Throwable t) {
        log(Level.INFO, "client went away during " + method + " " + route + ": " + reason, t);
    }
}
