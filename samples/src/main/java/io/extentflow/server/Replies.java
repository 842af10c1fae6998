package io.extentflow.server;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.imageio.ImageioJson;
import io.extentflow.engine.io.BlockingIo;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.Logger;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;

/** Writing replies: JSON bodies, empty successes, and one-line {@code text/plain} errors. */
final class Replies {

    private static final Logger LOG = Logger.getLogger("io.extentflow.server");

    /** The status the request metrics record for a request whose client went away before the reply (nginx's). */
    static final int CLIENT_CLOSED_REQUEST = 499;

    private Replies() {
    }

    /** 200 with a JSON body and the trailing newline imageio sends. */
    static Mono<Void> json(HttpServerResponse resp, Object value) {
        byte[] body = ImageioJson.toBytes(value);
        return resp.status(HttpResponseStatus.OK)
                .header(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body))).then();
    }

    /** {@code status} with an empty body. */
    static Mono<Void> empty(HttpServerResponse resp, int status) {
        resp.status(status);
        if (status != 204) {
            resp.header(HttpHeaderNames.CONTENT_LENGTH, "0");
        }
        return resp.send();
    }

    /**
     * The reply for a failed request. {@link ApiError}s become their status; anything else is a 500
     * with its reason. If the response already started, the connection is closed instead (the error
     * is passed on, which makes Reactor Netty drop the connection), so the client sees a short body.
     */
    static Mono<Void> error(HttpServerResponse resp, Throwable t) {
        if (ClientFaults.clientGone(resp)) {
            // nobody to answer: one log line, not a 500 with a stack trace
            ClientFaults.logDisconnect(resp.method().name(), ServerMetrics.route(resp.fullPath()), t);
            if (!resp.hasSentHeaders()) {
                resp.status(CLIENT_CLOSED_REQUEST); // for the request metrics; never sent
            }
            return Mono.empty();
        }
        if (resp.hasSentHeaders()) {
            return Mono.error(t);
        }
        ApiError e = t instanceof ApiError a ? a : internal(t);
        byte[] body = (e.getMessage().replace('\n', ' ') + "\n").getBytes(StandardCharsets.UTF_8);
        resp.status(e.status)
                .header(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=UTF-8")
                .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length));
        resp.responseHeaders().remove(HttpHeaderNames.CONTENT_RANGE);
        resp.responseHeaders().remove(HttpHeaderNames.CONTENT_DISPOSITION);
        if (e.contentRange != null) {
            resp.header(HttpHeaderNames.CONTENT_RANGE, e.contentRange);
        }
        if (e.close) {
            resp.keepAlive(false);
        }
        return resp.send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body))).then();
    }

    private static ApiError internal(Throwable t) {
        // logging writes to a stream: not on an event loop
        BlockingIo.run(() -> LOG.log(Level.WARNING, "request failed", t)).subscribe();
        return new ApiError(500, "Server failed to perform the request: " + ImageIoException.reason(t), null, true);
    }
}
