package io.extentflow.server;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.io.BlockingIo;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.logging.Level;
import java.util.logging.Logger;
import reactor.netty.channel.AbortedException;

/**
 * Faults a client causes and the server expects: a connection dropped mid-request, a request the
 * HTTP decoder cannot read (e.g. 10,000 headers). Each is logged as one line; its stack trace only
 * at {@code FINE}, since a client can cause any number of them and they say nothing about the server.
 */
final class ClientFaults {

    private static final Logger LOG = Logger.getLogger("io.extentflow.server");

    private ClientFaults() {
    }

    /** True for the end of a connection while its request was being read or answered. */
    static boolean isDisconnect(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof AbortedException || c instanceof ClosedChannelException
                    || c instanceof IOException && isResetMessage(c.getMessage())) {
                return true;
            }
        }
        return false;
    }

    private static boolean isResetMessage(String message) {
        return message != null && (message.contains("Connection reset") || message.contains("Broken pipe"));
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
        log(Level.INFO, "client went away during " + method + " " + route + ": " + ImageIoException.reason(t), t);
    }
}
