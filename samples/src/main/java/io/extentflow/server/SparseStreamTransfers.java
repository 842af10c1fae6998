package io.extentflow.server;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.io.ByteBufInputChannel;
import io.extentflow.engine.io.ByteBufOutputChannel;
import io.extentflow.engine.sparse.SparseStreamException;
import io.extentflow.sinks.stream.SparseStreamSink;
import io.extentflow.sources.stream.SparseStreamSource;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The whole image as one sparse stream in one request ({@code ?format=sparse}, our extension; see
 * docs/sparse-stream.md): a download is the engine's copy from the ticket's image into a
 * sparse-stream sink whose output is the response body; an upload is a copy from a sparse-stream
 * source reading the request body into the ticket's image. Backpressure runs from socket to disk
 * both ways, and memory is each copy's bytes in flight.
 */
final class SparseStreamTransfers {

    /** Data buffer bytes per streamed transfer. */
    private static final long IN_FLIGHT = 16L << 20;
    private static final CopyOptions OPTIONS = CopyOptions.defaults().withMaxInFlight(IN_FLIGHT).withFlush(false);

    private SparseStreamTransfers() {
    }

    /** {@code GET ?format=sparse}: streams the image; a client that leaves cancels the copy. */
    static Mono<Void> download(HttpServerRequest req, HttpServerResponse resp, TicketState state, Backend b,
                               ServerMetrics metrics) {
        long size = b.source().size();
        if (ImagesHandler.available(state, b) != size) {
            throw ApiError.badRequest("The ticket covers " + state.ticket.size() + " bytes of a " + size
                    + "-byte image: a sparse stream carries the whole image");
        }
        state.begin(TicketState.Kind.READ);
        ByteBufOutputChannel out = new ByteBufOutputChannel();
        ImageSink frames = new SparseStreamSink(out, false, "http:" + state.ticket.uuid(), size);
        long[] sent = {0};
        Flux<ByteBuf> body = Flux.defer(() -> {
            // the copy writes frames into the body as fast as the client reads them
            var copy = Copy.from(b.source()).to(frames).options(OPTIONS).run()
                    .then(frames.flush())
                    .subscribe(v -> { }, out::abort, out::close);
            return out.body().doFinally(s -> copy.dispose());
        });
        resp.header(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
        return resp.send(Transfers.guard(req, state, body).doOnNext(chunk -> sent[0] += chunk.readableBytes()))
                .then()
                .doFinally(s -> {
                    metrics.bytesRead.increment(sent[0]);
                    state.end(TicketState.Kind.READ, sent[0]);
                });
    }

    /** {@code PUT ?format=sparse}: writes a stream (chunked or not) into the image; 400 for a bad stream. */
    static Mono<Void> upload(HttpServerRequest req, HttpServerResponse resp, TicketState state, Backend b,
                             boolean flush, ServerMetrics metrics) {
        state.begin(TicketState.Kind.WRITE);
        ByteBufInputChannel in = new ByteBufInputChannel(Transfers.guard(req, state, req.receive()));
        SparseStreamSource stream = new SparseStreamSource(in, "http:" + state.ticket.uuid(), state.ticket.size(),
                () -> { });
        long[] written = {0};
        return Copy.from(stream).to(b.sink()).options(OPTIONS).run()
                .doOnNext(r -> written[0] = r.dataBytes())
                .then(flush ? b.sink().flush() : Mono.empty())
                .then(Mono.defer(() -> Replies.empty(resp, 200)))
                .onErrorMap(SparseStreamTransfers::isBadStream, e -> ApiError.badRequest(rootMessage(e)).closing())
                .doFinally(s -> {
                    in.close();
                    metrics.bytesWritten.increment(written[0]);
                    state.end(TicketState.Kind.WRITE, written[0]);
                });
    }

    private static boolean isBadStream(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SparseStreamException) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SparseStreamException) {
                return c.getMessage();
            }
        }
        return t.getMessage();
    }
}
