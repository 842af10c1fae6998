package io.extentflow.sinks.http;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.SinkCapabilities;
import io.extentflow.engine.capability.ExtentPlan;
import io.extentflow.engine.capability.SinkCapability;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.imageio.Features;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.engine.imageio.ImageOptions;
import io.extentflow.engine.imageio.ImageioClient;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.ByteBufOutputChannel;
import io.extentflow.engine.io.StreamThreads;
import io.extentflow.sinks.qcow2.Qcow2SinkOptions;
import io.extentflow.sinks.qcow2.Qcow2StreamSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import reactor.core.publisher.Mono;

/**
 * A qcow2 image sent to an imageio ticket as the body of one {@code PUT}: the ticket's file receives
 * the qcow2 file's bytes, as a qcow2 disk is uploaded to oVirt. The image is written in one pass by
 * {@link Qcow2StreamSink} into a channel whose bytes are the request body ({@link ByteBufOutputChannel}),
 * so a slow server slows the copy and the bytes in flight stay bounded.
 *
 * <p>Why one request: the one-pass writer emits the file front to back and knows its exact length
 * before the first byte ({@link ExtentPlan}), so one {@code PUT} with that {@code Content-Length}
 * carries it all, without a request per range or any {@code PATCH}. The ticket's size is the size of
 * the file behind it, which must hold the whole qcow2 file: a ticket that is too small is refused in
 * one line, naming the URL, the needed and the ticket's size, before the request starts
 * ({@code extentflow measure} tells the size to give it).
 *
 * <p>{@link #finish()} (called by every copy, flush or not) writes the image's last bytes, ends the
 * body and completes only with the server's 200, which it sends once everything is written and
 * flushed ({@code flush=y}). A close before that aborts the body, so the server sees a cut request and
 * never answers it as complete.
 */
final class HttpQcow2Sink implements ImageSink, ExtentPlan {

    private final ImageioClient client;
    private final ByteBufOutputChannel body = new ByteBufOutputChannel();
    private final Qcow2StreamSink image;
    /** The ticket's size (the file behind it), or -1 when the server does not tell it. */
    private final long ticketSize;
    /** The server's answer to the upload, once it started. */
    private volatile Mono<Void> response;
    private final Mono<Void> end;
    private volatile boolean confirmed;
    /** Why the request failed, once it did: the cause to report for the writes it stops. */
    private volatile Throwable uploadFailure;

    private HttpQcow2Sink(ImageioClient client, long size, long ticketSize, Qcow2SinkOptions layout) {
        this.client = client;
        this.ticketSize = ticketSize;
        this.image = Qcow2StreamSink.toChannel(body, client.url(), size, layout, this::startUpload);
        this.end = image.finish()
                // closing the body may wait for the server to take the last chunk: a stream thread's work
                .then(Mono.fromRunnable(body::close).subscribeOn(StreamThreads.scheduler()))
                .then(Mono.defer(() -> response == null
                        ? Mono.error(new IllegalStateException(client.url() + ": finished before it was laid out"))
                        : response))
                .doOnSuccess(v -> confirmed = true)
                .cache();
    }

    /**
     * Opens {@code url} for a qcow2 image of a guest of {@code size} bytes: the ticket must allow
     * writing; its size is asked now (to be checked against the image's length once laid out).
     */
    static Mono<ImageSink> open(String url, long size, Qcow2SinkOptions layout, EndpointOptions endpointOptions) {
        return Mono.defer(() -> {
            Qcow2StreamSink.refuseUnsupported(url, size, layout);
            // create() may read a CA file: not on an event loop
            return BlockingIo.call(() -> ImageioClient.create(url,
                            HttpOptions.clientOptions(endpointOptions).withConnections(1)))
                    .flatMap(probe -> probe.options()
                            .doFinally(s -> probe.close())
                            .flatMap(options -> {
                                if (!options.writable()) {
                                    return Mono.error(new ImageIoException("open", url, 0, size,
                                            "the ticket does not allow writing (Allow: "
                                                    + String.join(",", options.allow()) + ")", null));
                                }
                                return probe.forTransfer(options, 1).flatMap(client -> ticketSize(client, options)
                                        .map(ticket -> (ImageSink) new HttpQcow2Sink(client, size, ticket, layout))
                                        .doOnError(e -> client.close()));
                            }));
        });
    }

    /**
     * The ticket's size: announced in OPTIONS (our server), else where its extents end (ovirt-imageio),
     * else from a one-byte read; -1 when none of these answers, and the server's own check of the
     * request's range then stands (it refuses before writing).
     */
    private static Mono<Long> ticketSize(ImageioClient client, ImageOptions options) {
        if (options.size().isPresent()) {
            return Mono.just(options.size().getAsLong());
        }
        Mono<Long> asked = options.has(Features.EXTENTS)
                ? client.extents(null, null).map(list -> list.isEmpty() ? 0L : list.get(list.size() - 1).end())
                : client.sizeByRange();
        return asked.onErrorReturn(-1L);
    }

    /** Refuses a ticket too small for the image, then starts the request with the image's exact length. */
    private void startUpload(long length) throws IOException {
        if (ticketSize >= 0 && ticketSize < length) {
            throw new ImageIoException("upload", client.url(), 0, length, "the ticket holds " + ticketSize
                    + " bytes, the qcow2 image needs " + length + "; give the ticket a file of at least that size "
                    + "('extentflow measure --output-format qcow2 SRC' tells it)", null);
        }
        Mono<Void> r = client.upload(body.body(), length).cache();
        response = r;
        // a server that answers early (an error) or goes away must wake a writer waiting to hand it more bytes
        r.subscribe(v -> { }, e -> {
            uploadFailure = e;
            body.abort(e);
        });
    }

    @Override
    public String endpoint() {
        return client.url();
    }

    @Override
    public long size() {
        return image.size();
    }

    @Override
    public SinkCapabilities capabilities() {
        return image.capabilities();
    }

    /** The extent plan, which lays the image out before the request starts. */
    @Override
    public <C extends SinkCapability> Optional<C> sinkCapability(Class<C> type) {
        return type == ExtentPlan.class ? Optional.of(type.cast(this)) : Optional.empty();
    }

    @Override
    public Mono<Void> plan(List<Extent> extents) {
        return image.plan(extents);
    }

    @Override
    public Mono<Void> write(long offset, ByteBuffer data) {
        return image.write(offset, data).onErrorMap(this::asUploadFailure);
    }

    @Override
    public Mono<Void> zero(long offset, long length) {
        return image.zero(offset, length).onErrorMap(this::asUploadFailure);
    }

    @Override
    public Mono<Void> skip(long offset, long length) {
        return image.skip(offset, length).onErrorMap(this::asUploadFailure);
    }

    /** A write stopped because the request failed reports the request's failure, which says why. */
    private Throwable asUploadFailure(Throwable writeFailure) {
        Throwable why = uploadFailure;
        return why != null ? why : writeFailure;
    }

    /** Writes the image's end, ends the request body, and waits for the server to accept it all. */
    @Override
    public Mono<Void> finish() {
        return end;
    }

    /** The same as {@link #finish()}: the server flushes before it answers the request. */
    @Override
    public Mono<Void> flush() {
        return end;
    }

    /** Aborts the upload unless the server confirmed it, and closes the connection. Safe to call twice. */
    @Override
    public void close() {
        if (!confirmed) {
            // before the image's close, which would otherwise end the body as if it were complete
            body.abort(new IOException("upload closed before the server confirmed the whole image"));
        }
        image.close();
        client.close();
    }
}
