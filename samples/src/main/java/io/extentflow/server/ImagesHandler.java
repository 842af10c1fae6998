package io.extentflow.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.dirty.DirtyMerge;
import io.extentflow.engine.imageio.Features;
import io.extentflow.engine.imageio.ImageOptions;
import io.extentflow.engine.imageio.ImageioJson;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The data API: {@code /images/<ticket>} (OPTIONS, GET, PUT, PATCH), {@code .../extents},
 * {@code .../checksum} and {@code .../checksum/algorithms}.
 *
 * <p>Nothing here blocks: image I/O goes through the ticket's source and sink, which run their
 * system calls on the file I/O scheduler. Downloads ({@link DownloadStream}) and uploads
 * ({@link UploadWriter}) move the bytes through the server's pooled buffers, at most
 * {@link ServerConfig#buffersPerRequest()} per request, so a slow peer slows the transfer instead of
 * growing memory. Image operations run through {@link Transfers#detached}: once started they finish
 * even if the client goes away.
 */
final class ImagesHandler {

    static final List<String> READ_FEATURES = List.of(Features.CHECKSUM, Features.EXTENTS, Features.EXTENTS_RANGE,
            Features.SPARSE_STREAM);
    static final List<String> WRITE_FEATURES = List.of(Features.CHECKSUM, Features.EXTENTS,
            Features.EXTENTS_RANGE, Features.FLUSH, Features.ZERO, Features.SPARSE_STREAM);
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
                    return sparse(query) ? sparseDownload(req, resp, id) : download(req, resp, id);
                } else if (method.equals(HttpMethod.PUT)) {
                    return sparse(query) ? sparseUpload(req, resp, id, query) : upload(req, resp, id, query);
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
            String local = localSocket();
            return Replies.json(resp, local == null ? Map.of("features", WRITE_FEATURES)
                    : Map.of("unix_socket", local, "features", WRITE_FEATURES));
        }
        TicketState state = tickets.authorize(id, "read");
        return state.backend().flatMap(b -> {
            state.touch();
            boolean writable = state.ticket.may("write");
            ImageOptions options = new ImageOptions(
                    writable ? List.of("OPTIONS", "GET", "PUT", "PATCH") : List.of("OPTIONS", "GET"),
                    writable ? WRITE_FEATURES : READ_FEATURES,
                    tickets.config().maxReaders(), tickets.config().maxWriters(),
                    OptionalLong.of(available(state, b)),
                    localSocket());
            resp.header(HttpHeaderNames.ALLOW, String.join(",", options.allow()));
            return Replies.json(resp, options.toJson());
        });
    }

    /** The local service's socket, announced as {@code unix_socket}, or null. */
    private String localSocket() {
        Path local = tickets.config().localSocket();
        return local == null ? null : local.toString();
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
            if (length == 0) {
                // nothing to read (an empty image): the headers alone; an empty body publisher left
                // the reply unsent and the client waiting
                return resp.send().then().doFinally(s -> state.end(TicketState.Kind.READ, 0));
            }
            Flux<ByteBuf> body = Transfers.guard(req, state,
                            new DownloadStream(b.source(), buffers, tickets.config().buffersPerRequest())
                                    .chunks(offset, length))
                    .doOnNext(chunk -> sent.addAndGet(chunk.readableBytes()));
            return resp.send(body).then()
                    .doFinally(s -> {
                        metrics.bytesRead.increment(sent.get());
                        state.end(TicketState.Kind.READ, sent.get());
                        // a client that hangs up mid-download ends the send without an error (an
                        // error is logged where it is answered)
                        if (s != SignalType.ON_ERROR && sent.get() < length && ClientFaults.clientGone(resp)) {
                            ClientFaults.logDisconnect("GET", "/images/{ticket}", "connection closed after "
                                    + sent.get() + " of " + length + " bytes", null);
                        }
                    });
        });
    }

    // ---- sparse streams (?format=sparse) -------------------------------------------------------

    /** True for {@code format=sparse}; {@code format=raw} (or none) is the plain byte API. */
    private static boolean sparse(Map<String, List<String>> query) {
        return enumParam(query, "format", List.of("raw", "sparse"), "raw").equals("sparse");
    }

    private Mono<Void> sparseDownload(HttpServerRequest req, HttpServerResponse resp, String id) {
        TicketState state = tickets.authorize(id, "read");
        return state.backend().flatMap(b -> SparseStreamTransfers.download(req, resp, state, b, metrics));
    }

    private Mono<Void> sparseUpload(HttpServerRequest req, HttpServerResponse resp, String id,
                                    Map<String, List<String>> query) {
        boolean flush = "y".equals(enumParam(query, "flush", List.of("n", "y"), "y"));
        TicketState state = tickets.authorize(id, "write");
        return state.backend().flatMap(b -> SparseStreamTransfers.upload(req, resp, state, b, flush, metrics));
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
        long size = nonNegativeLong(headers.get(HttpHeaderNames.CONTENT_LENGTH));
        if (size < 0) {
            throw ApiError.badRequest("Invalid Content-Length '" + headers.get(HttpHeaderNames.CONTENT_LENGTH)
                    + "': expecting a non-negative 64-bit number").closing();
        }
        String contentRange = headers.get(HttpHeaderNames.CONTENT_RANGE);
        long offset = contentRange == null ? 0 : Ranges.contentRangeStart(contentRange);
        boolean flush = "y".equals(enumParam(query, "flush", List.of("n", "y"), "y"));
        TicketState state = tickets.authorize(id, "write");
        long ticketSize = state.ticket.size();
        if (!withinTicket(offset, size, ticketSize)) {
            throw ApiError.outOfRange("Requested range out of allowed range", ticketSize).closing();
        }
        return state.backend().flatMap(b -> {
            state.begin(TicketState.Kind.WRITE);
            UploadWriter upload = new UploadWriter(b.sink(), buffers, offset, size);
            // One item per network buffer taken, so the inactivity timeout measures progress, not
            // duration. After each one the channel is asked to read once more: with keep-alive
            // requests arriving back to back, Reactor Netty 1.3.7 sometimes leaves a request body
            // unread in the socket when demand resumes (the upload then stalls); an explicit read
            // for the next buffer keeps it flowing and keeps the pushback (one read per buffer taken).
            Mono<Void> written = Transfers.guard(req, state, req.receive().retain()
                    .concatMap(buf -> upload.consume(buf).doFinally(s -> buf.release()).thenReturn(Boolean.TRUE), 1)
                    .doOnNext(x -> req.withConnection(c -> c.channel().read()))
                    // retained network buffers still queued when the upload is cut short
                    .doOnDiscard(ByteBuf.class, ByteBuf::release))
                    .then(Mono.defer(upload::finish));
            return written
                    .then(flush ? Transfers.detached(b.sink().flush(), () -> { }) : Mono.empty())
                    .then(Mono.defer(() -> Replies.empty(resp, 200)))
                    .doFinally(s -> {
                        upload.abandon();
                        metrics.bytesWritten.increment(upload.written());
                        state.end(TicketState.Kind.WRITE, upload.written());
                    });
        });
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
        if (!withinTicket(offset, size, ticketSize)) {
            throw ApiError.outOfRange("Requested range out of allowed range", ticketSize);
        }
        return state.backend().flatMap(b -> {
            state.begin(TicketState.Kind.WRITE);
            Mono<Void> zeroed = size == 0 ? Mono.empty() : Transfers.detached(b.sink().zero(offset, size), () -> { });
            return zeroed
                    .then(flush ? Transfers.detached(b.sink().flush(), () -> { }) : Mono.empty())
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
            return Transfers.detached(b.sink().flush(), () -> { })
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
        boolean dirty = context.equals("dirty");
        if (dirty && !state.ticket.dirty()) {
            throw ApiError.notFound("Ticket does not support dirty extents");
        }
        return state.backend().flatMap(b -> {
            Optional<DirtyExtents> bitmap = dirty ? b.source().capability(DirtyExtents.class) : Optional.empty();
            if (dirty && bitmap.isEmpty()) {
                throw ApiError.notFound("Ticket does not support dirty extents");
            }
            long available = available(state, b);
            long from = start == null ? 0 : start;
            if (from > available) {
                throw ApiError.outOfRange("Requested range out of allowed range", available);
            }
            long len = length == null ? available - from : Math.min(length, available - from);
            (start == null && length == null ? metrics.extentsWhole : metrics.extentsRange).increment();
            state.begin(TicketState.Kind.READ);
            Flux<ByteBuf> json = len == 0 ? Flux.just(ascii("[]\n"))
                    : dirty ? jsonList(DirtyMerge.extents(b.source(), bitmap.get(), from, len),
                            ImageioJson::appendDirtyExtent)
                    : jsonList(b.source().extents(from, len), ImageioJson::appendExtent);
            resp.status(200).header(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            return resp.send(Transfers.guard(req, state, json)).then()
                    .doFinally(s -> state.end(TicketState.Kind.READ, 0));
        });
    }

    /**
     * The extents (zero or dirty context) as a JSON list, streamed in chunks so a huge list is never
     * held in memory.
     */
    private static <T> Flux<ByteBuf> jsonList(Flux<T> extents, BiConsumer<StringBuilder, T> append) {
        boolean[] first = {true};
        return extents.buffer(EXTENTS_PER_CHUNK)
                .map(batch -> {
                    StringBuilder sb = new StringBuilder(batch.size() * 64);
                    for (T e : batch) {
                        sb.append(first[0] ? '[' : ',');
                        first[0] = false;
                        append.accept(sb, e);
                    }
                    return ascii(sb.toString());
                })
                .concatWith(Mono.fromSupplier(() -> ascii(first[0] ? "[]\n" : "]\n")));
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.US_ASCII));
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** {@code text} as a non-negative 64-bit number, or -1 when it is not one. */
    private static long nonNegativeLong(String text) {
        try {
            long n = Long.parseLong(text.trim());
            return n >= 0 ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * True when {@code [offset, offset + length)} lies inside a ticket of {@code ticketSize} bytes
     * (all three non-negative). Written without {@code offset + length}, which overflows for an
     * offset near 2^63 and would let the range through to the image.
     */
    static boolean withinTicket(long offset, long length, long ticketSize) {
        return length <= ticketSize && offset <= ticketSize - length;
    }

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
