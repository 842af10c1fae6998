package io.extentflow.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.imageio.Features;
import io.extentflow.engine.imageio.ImageOptions;
import io.extentflow.engine.imageio.ImageioJson;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The data API: {@code /images/<ticket>} (OPTIONS, GET, PUT, PATCH), {@code .../extents},
 * {@code .../checksum} and {@code .../checksum/algorithms}.
 *
 * <p>Nothing here blocks: image I/O goes through the ticket's {@link ImageSource} and
 * {@link ImageSink}, which run their system calls on the file I/O scheduler. Downloads and uploads
 * move the bytes through the server's pooled buffers, at most {@link ServerConfig#buffersPerRequest()}
 * per request, so a slow peer slows the transfer instead of growing memory. An image operation once
 * started is never cancelled half way (cancelling a positional file read by interrupt would close the
 * file for every request): when the client goes away the current buffer finishes and is returned.
 */
final class ImagesHandler {

    static final List<String> READ_FEATURES = List.of(Features.CHECKSUM, Features.EXTENTS, Features.EXTENTS_RANGE);
    static final List<String> WRITE_FEATURES = List.of(Features.CHECKSUM, Features.EXTENTS,
            Features.EXTENTS_RANGE, Features.FLUSH, Features.ZERO);
    /** Largest JSON body of a PATCH request. */
    private static final int MAX_JSON = 64 << 10;
    /** Extents per JSON chunk of a streamed extents reply. */
    private static final int EXTENTS_PER_CHUNK = 1024;

    private final TicketStore tickets;
    private final ServerBuffers buffers;
    private final ServerMetrics metrics;
    private final ChecksumHandler checksums;

    ImagesHandler(TicketStore tickets, ServerBuffers buffers, ServerMetrics metrics, ChecksumHandler checksums) {
        this.tickets = tickets;
        this.buffers = buffers;
        this.metrics = metrics;
        this.checksums = checksums;
    }

    /** Dispatches {@code /images/...}; {@code rest} is the path after {@code /images/}. */
    Mono<Void> handle(HttpServerRequest req, HttpServerResponse resp, String path, String rest,
                      Map<String, List<String>> query) {
        int slash = rest.indexOf('/');
        String id = slash < 0 ? rest : rest.substring(0, slash);
        String sub = slash < 0 ? "" : rest.substring(slash + 1);
        HttpMethod method = req.method();
        if (id.isEmpty()) {
            throw ApiError.badRequest("Ticket id is required");
        }
        switch (sub) {
            case "" -> {
                if (method.equals(HttpMethod.OPTIONS)) {
                    return options(resp, id);
                } else if (method.equals(HttpMethod.GET)) {
                    return download(req, resp, id);
                } else if (method.equals(HttpMethod.PUT)) {
                    return upload(req, resp, id, query);
                } else if (method.equals(HttpMethod.PATCH)) {
                    return patch(req, resp, id);
                }
            }
            case "extents" -> {
                if (method.equals(HttpMethod.GET)) {
                    return extents(req, resp, id, query);
                }
            }
            case "checksum" -> {
                if (method.equals(HttpMethod.GET)) {
                    return checksums.checksum(resp, id, query);
                }
            }
            case "checksum/algorithms" -> {
                if (method.equals(HttpMethod.GET)) {
                    return checksums.algorithms(resp);
                }
            }
            default -> throw ApiError.notFound("No handler for '" + path + "'");
        }
        throw ApiError.methodNotAllowed(method.name(), path);
    }

    // ---- OPTIONS ------------------------------------------------------------------------------

    private Mono<Void> options(HttpServerResponse resp, String id) {
        if (id.equals("*")) {
            resp.header(HttpHeaderNames.ALLOW, "OPTIONS,GET,PUT,PATCH");
            return Replies.json(resp, Map.of("features", WRITE_FEATURES));
        }
        TicketState state = tickets.authorize(id, "read");
        return state.backend().flatMap(b -> {
            state.touch();
            boolean writable = state.ticket.may("write");
            ImageOptions options = new ImageOptions(
                    writable ? List.of("OPTIONS", "GET", "PUT", "PATCH") : List.of("OPTIONS", "GET"),
                    writable ? WRITE_FEATURES : READ_FEATURES,
                    tickets.config().maxReaders(), tickets.config().maxWriters(),
                    OptionalLong.of(available(state, b)));
            resp.header(HttpHeaderNames.ALLOW, String.join(",", options.allow()));
            return Replies.json(resp, options.toJson());
        });
    }

    /** Bytes readable through the ticket: the ticket size, or less if the image is smaller. */
    static long available(TicketState state, Backend b) {
        return Math.min(state.ticket.size(), b.source().size());
    }

    // ---- GET ----------------------------------------------------------------------------------

    private Mono<Void> download(HttpServerRequest req, HttpServerResponse resp, String id) {
        String rangeHeader = req.requestHeaders().get(HttpHeaderNames.RANGE);
        Ranges.ByteRange range = rangeHeader == null ? null : Ranges.range(rangeHeader);
        TicketState state = tickets.authorize(id, "read");
        long ticketSize = state.ticket.size();
        if (range != null && range.last() >= ticketSize) {
            throw ApiError.outOfRange("Requested range out of allowed range", ticketSize);
        }
        return state.backend().flatMap(b -> {
            long available = available(state, b);
            long offset = range == null ? 0 : range.first();
            long end = range == null || range.last() < 0 ? available : range.last() + 1;
            if (range != null && offset >= available) {
                throw ApiError.outOfRange("Requested range starts at " + offset + ", past the last byte of the image ("
                        + available + " bytes)", available);
            }
            if (range != null && end > available) {
                throw ApiError.outOfRange("Requested more bytes than available: " + end + " > " + available,
                        available);
            }
            long length = end - offset;
            state.begin(TicketState.Kind.READ);
            AtomicLong sent = new AtomicLong();
            resp.header(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                    .header(HttpHeaderNames.CONTENT_LENGTH, Long.toString(length))
                    .header(HttpHeaderNames.CONTENT_DISPOSITION, "attachment"
                            + (state.ticket.filename() == null ? "" : "; filename=" + state.ticket.filename()));
            if (range != null) {
                resp.status(206).header(HttpHeaderNames.CONTENT_RANGE,
                        "bytes " + offset + "-" + (end - 1) + "/" + ticketSize);
            }
            Flux<ByteBuf> body = stream(req, state, b.source(), offset, length)
                    .doOnNext(chunk -> sent.addAndGet(chunk.readableBytes()));
            return resp.send(body).then()
                    .doFinally(s -> {
                        metrics.bytesRead.increment(sent.get());
                        state.end(TicketState.Kind.READ, sent.get());
                    });
        });
    }

    /**
     * The bytes of {@code [offset, offset + length)} as a stream of pooled buffers: the next buffer
     * is read only when one of this request's {@link ServerConfig#buffersPerRequest()} buffers came
     * back from the socket. Stops with an error when the ticket is canceled or no buffer made it to
     * the socket within the ticket's inactivity timeout.
     */
    private Flux<ByteBuf> stream(HttpServerRequest req, TicketState state, ImageSource source, long offset, long length) {
        AsyncPermits window = new AsyncPermits(tickets.config().buffersPerRequest());
        int chunk = buffers.chunkSize();
        long end = offset + length;
        Flux<ByteBuf> chunks = Flux.<Long, Long>generate(() -> offset, (pos, sink) -> {
                    if (pos >= end) {
                        sink.complete();
                    } else {
                        sink.next(pos);
                    }
                    return pos + chunk;
                })
                .concatMap(pos -> readChunk(source, pos, (int) Math.min(chunk, end - pos), window), 1);
        return guard(req, state, chunks);
    }

    /**
     * Cancellation and inactivity for a transfer in progress: the transfer fails when the ticket is
     * canceled or when no buffer moved within the ticket's inactivity timeout, and then the
     * connection is closed at once. (A response stuck behind a client that stopped reading would
     * otherwise wait for its pending writes forever.)
     */
    private static <T> Flux<T> guard(HttpServerRequest req, TicketState state, Flux<T> transfer) {
        Duration inactivity = Duration.ofSeconds(Math.max(1, state.ticket.inactivityTimeout()));
        return Flux.defer(() -> {
            reactor.netty.Connection[] connection = new reactor.netty.Connection[1];
            req.withConnection(c -> connection[0] = c);
            return transfer
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

    /** One pooled buffer filled at {@code pos}; its release (by Netty) returns the buffer and the permit. */
    private Mono<ByteBuf> readChunk(ImageSource source, long pos, int n, AsyncPermits window) {
        return window.acquire()
                .then(buffers.acquire().doOnCancel(window::release))
                .flatMap(buffer -> {
                    Runnable giveBack = () -> {
                        buffers.release(buffer);
                        window.release();
                    };
                    buffer.limit(n);
                    return detached(source.read(pos, buffer), giveBack)
                            .then(Mono.fromCallable(() -> (ByteBuf) new ChunkByteBuf(buffer.flip(), giveBack)));
                });
    }

    /**
     * Runs {@code io} to its end even if the subscriber cancels: a cancelled subscriber's buffer is
     * released by {@code releaseOnCancel} only when the I/O that fills or drains it has finished.
     */
    static Mono<Void> detached(Mono<Void> io, Runnable releaseOnCancelOrError) {
        return Mono.create(sink -> {
            AtomicBoolean cancelled = new AtomicBoolean();
            sink.onCancel(() -> cancelled.set(true));
            io.subscribe(null, e -> {
                releaseOnCancelOrError.run();
                sink.error(e);
            }, () -> {
                if (cancelled.get()) {
                    releaseOnCancelOrError.run();
                } else {
                    sink.success();
                }
            });
        });
    }

    // ---- PUT ----------------------------------------------------------------------------------

    private Mono<Void> upload(HttpServerRequest req, HttpServerResponse resp, String id,
                              Map<String, List<String>> query) {
        var headers = req.requestHeaders();
        // A chunked request has no length to check the range against: refused, as ovirt-imageio does.
        if (!headers.contains(HttpHeaderNames.CONTENT_LENGTH)
                || headers.containsValue(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED, true)) {
            throw ApiError.badRequest("Content-Length header is required").closing();
        }
        long size;
        try {
            size = Long.parseLong(headers.get(HttpHeaderNames.CONTENT_LENGTH).trim());
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("Invalid Content-Length '" + headers.get(HttpHeaderNames.CONTENT_LENGTH) + "'")
                    .closing();
        }
        String contentRange = headers.get(HttpHeaderNames.CONTENT_RANGE);
        long offset = contentRange == null ? 0 : Ranges.contentRangeStart(contentRange);
        boolean flush = "y".equals(enumParam(query, "flush", List.of("n", "y"), "y"));
        TicketState state = tickets.authorize(id, "write");
        long ticketSize = state.ticket.size();
        if (size < 0 || offset + size > ticketSize) {
            throw ApiError.outOfRange("Requested range out of allowed range", ticketSize).closing();
        }
        return state.backend().flatMap(b -> {
            state.begin(TicketState.Kind.WRITE);
            Upload upload = new Upload(b.sink(), offset, size);
            Mono<Void> written = guard(req, state, req.receive().retain()
                    .concatMap(buf -> upload.consume(buf).doFinally(s -> buf.release()), 1))
                    .then(Mono.defer(upload::finish));
            return written
                    .then(flush ? detached(b.sink().flush(), () -> { }) : Mono.empty())
                    .then(Mono.defer(() -> Replies.empty(resp, 200)))
                    .doFinally(s -> {
                        upload.abandon();
                        metrics.bytesWritten.increment(upload.written);
                        state.end(TicketState.Kind.WRITE, upload.written);
                    });
        });
    }

    /**
     * The state of one upload: incoming network buffers are copied into a pooled buffer, and each
     * full pooled buffer is written to the image before more is read from the socket (Reactor Netty
     * stops reading while nothing is requested, which pushes back on the sender).
     */
    private final class Upload {
        private final ImageSink sink;
        private final long offset;
        private final long size;
        private ByteBuffer current;
        private long filled;
        long written;

        Upload(ImageSink sink, long offset, long size) {
            this.sink = sink;
            this.offset = offset;
            this.size = size;
        }

        Mono<Void> consume(ByteBuf buf) {
            return Mono.defer(() -> {
                if (!buf.isReadable()) {
                    return Mono.empty();
                }
                if (filled + buf.readableBytes() > size) {
                    return Mono.error(ApiError.badRequest("Request body is longer than Content-Length"));
                }
                Mono<Void> ready = current != null ? Mono.empty() : buffers.acquire().doOnNext(b -> {
                    b.clear().limit((int) Math.min(b.capacity(), size - filled));
                    current = b;
                }).then();
                return ready.then(Mono.defer(() -> {
                    int n = Math.min(buf.readableBytes(), current.remaining());
                    ByteBuffer part = current.duplicate();
                    part.limit(part.position() + n);
                    buf.readBytes(part);
                    current.position(current.position() + n);
                    filled += n;
                    return current.hasRemaining() ? Mono.empty() : writeCurrent().then(consume(buf));
                }));
            });
        }

        private Mono<Void> writeCurrent() {
            ByteBuffer b = current;
            current = null;
            b.flip();
            long at = offset + written;
            int n = b.remaining();
            return detached(sink.write(at, b), () -> buffers.release(b))
                    .doOnSuccess(v -> {
                        written += n;
                        buffers.release(b);
                    });
        }

        Mono<Void> finish() {
            if (current != null && current.position() > 0) {
                return writeCurrent().then(Mono.defer(this::finish));
            }
            if (written < size) {
                return Mono.error(ApiError.badRequest("Expected " + size + " bytes, got " + written).closing());
            }
            return Mono.empty();
        }

        /** Returns a half-filled buffer when the upload ended early. */
        void abandon() {
            if (current != null) {
                buffers.release(current);
                current = null;
            }
        }
    }

    // ---- PATCH --------------------------------------------------------------------------------

    private Mono<Void> patch(HttpServerRequest req, HttpServerResponse resp, String id) {
        long declared = req.requestHeaders().getInt(HttpHeaderNames.CONTENT_LENGTH, -1);
        if (declared > MAX_JSON) {
            throw new ApiError(413, "Request body too large: " + declared + " > " + MAX_JSON, null, true);
        }
        return req.receive().aggregate().asByteArray().defaultIfEmpty(new byte[0]).flatMap(body -> {
            if (body.length > MAX_JSON) {
                throw new ApiError(413, "Request body too large: " + body.length + " > " + MAX_JSON, null, true);
            }
            JsonNode msg;
            try {
                msg = ImageioJson.MAPPER.readTree(body);
            } catch (IOException e) {
                throw ApiError.badRequest("Invalid JSON message " + firstLine(e.getMessage()));
            }
            if (msg == null || !msg.isObject()) {
                throw ApiError.badRequest("Invalid JSON message: expecting an object");
            }
            String op = Params.enumValue(msg, "op", List.of("flush", "zero"));
            return op.equals("zero") ? zero(resp, id, msg) : flush(resp, id);
        });
    }

    private Mono<Void> zero(HttpServerResponse resp, String id, JsonNode msg) {
        long size = Params.integer(msg, "size", null);
        long offset = Params.integer(msg, "offset", 0L);
        boolean flush = Params.bool(msg, "flush", false);
        TicketState state = tickets.authorize(id, "write");
        long ticketSize = state.ticket.size();
        if (offset + size > ticketSize) {
            throw ApiError.outOfRange("Requested range out of allowed range", ticketSize);
        }
        return state.backend().flatMap(b -> {
            state.begin(TicketState.Kind.WRITE);
            Mono<Void> zeroed = size == 0 ? Mono.empty() : detached(b.sink().zero(offset, size), () -> { });
            return zeroed
                    .then(flush ? detached(b.sink().flush(), () -> { }) : Mono.empty())
                    .then(Mono.defer(() -> {
                        metrics.bytesZeroed.increment(size);
                        return Replies.empty(resp, 200);
                    }))
                    .doFinally(s -> state.end(TicketState.Kind.WRITE, size));
        });
    }

    private Mono<Void> flush(HttpServerResponse resp, String id) {
        TicketState state = tickets.authorize(id, "write");
        return state.backend().flatMap(b -> {
            state.begin(TicketState.Kind.WRITE);
            return detached(b.sink().flush(), () -> { })
                    .then(Mono.defer(() -> Replies.empty(resp, 200)))
                    .doFinally(s -> state.end(TicketState.Kind.WRITE, 0));
        });
    }

    // ---- extents ------------------------------------------------------------------------------

    private Mono<Void> extents(HttpServerRequest req, HttpServerResponse resp, String id, Map<String, List<String>> query) {
        String context = enumParam(query, "context", List.of("dirty", "zero"), "zero");
        Long start = Params.queryInteger(query, "start");
        Long length = Params.queryInteger(query, "length");
        TicketState state = tickets.authorize(id, "read");
        if (context.equals("dirty")) {
            throw ApiError.notFound("Ticket does not support dirty extents");
        }
        return state.backend().flatMap(b -> {
            long available = available(state, b);
            long from = start == null ? 0 : start;
            if (from > available) {
                throw ApiError.outOfRange("Requested range out of allowed range", available);
            }
            long len = length == null ? available - from : Math.min(length, available - from);
            (start == null && length == null ? metrics.extentsWhole : metrics.extentsRange).increment();
            state.begin(TicketState.Kind.READ);
            Flux<ByteBuf> json = len == 0 ? Flux.just(ascii("[]\n")) : extentsJson(b.source().extents(from, len));
            resp.status(200).header(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            return resp.send(guard(req, state, json)).then()
                    .doFinally(s -> state.end(TicketState.Kind.READ, 0));
        });
    }

    /** The extents as a JSON list, streamed in chunks so a huge list is never held in memory. */
    private static Flux<ByteBuf> extentsJson(Flux<Extent> extents) {
        boolean[] first = {true};
        return extents.buffer(EXTENTS_PER_CHUNK)
                .map(batch -> {
                    StringBuilder sb = new StringBuilder(batch.size() * 64);
                    for (Extent e : batch) {
                        sb.append(first[0] ? '[' : ',');
                        first[0] = false;
                        ImageioJson.appendExtent(sb, e);
                    }
                    return ascii(sb.toString());
                })
                .concatWith(Mono.fromSupplier(() -> ascii(first[0] ? "[]\n" : "]\n")));
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.US_ASCII));
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** A query parameter that must be one of {@code allowed}, as ovirt-imageio words the error. */
    static String enumParam(Map<String, List<String>> query, String name, List<String> allowed, String dflt) {
        List<String> values = query.get(name);
        if (values == null || values.isEmpty()) {
            return dflt;
        }
        String v = values.get(0);
        if (!allowed.contains(v)) {
            throw ApiError.badRequest("Unsupported value '" + v + "' for '" + name + "', expecting one of "
                    + Params.pyList(allowed));
        }
        return v;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
