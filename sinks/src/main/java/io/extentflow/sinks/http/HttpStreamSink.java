package io.extentflow.sinks.http;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.SinkCapabilities;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.imageio.Features;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.engine.imageio.ImageioClient;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.ByteBufOutputChannel;
import io.extentflow.engine.io.StreamThreads;
import io.extentflow.sinks.stream.SparseStreamSink;
import java.nio.ByteBuffer;
import reactor.core.publisher.Mono;

/**
 * An imageio image uploaded as one sparse stream ({@code PUT ?format=sparse}, our extension): one
 * chunked request for the whole copy. Frames are written by a {@link SparseStreamSink} into a
 * channel whose bytes are the request body, so a slow server slows the copy.
 *
 * <p>{@link #finish()} (called by every copy, with or without a flush) ends the stream and the body
 * and completes only with the server's 200, which the server sends once every frame is written to
 * the image (and flushed). Until then nothing counts as copied: the last frames may still be in
 * this process, in socket buffers or in the server's writes. A close before that aborts the body,
 * so the server sees a cut stream and keeps nothing as complete.
 */
final class HttpStreamSink implements ImageSink {

    private final SparseStreamSink frames;
    private final ByteBufOutputChannel body;
    private final Mono<Void> response;
    private final ImageioClient client;
    /** The end of the upload (stop frame, end of body, server's answer); made once, however often asked. */
    private final Mono<Void> end;
    private volatile boolean confirmed;

    private HttpStreamSink(ImageioClient client, long size) {
        this.client = client;
        this.body = new ByteBufOutputChannel();
        this.frames = new SparseStreamSink(body, false, client.url(), size);
        // the request starts now; its body is produced as the copy writes frames
        this.response = client.sparseUpload(body.body()).cache();
        // a server that answers early (an error) must wake a writer waiting to hand it more bytes
        this.response.subscribe(v -> { }, e -> body.abort(e));
        this.end = frames.finish()
                // closing the body may wait for the server to take the last chunk: a stream thread's work
                .then(Mono.fromRunnable(body::close).subscribeOn(StreamThreads.scheduler()))
                .then(response)
                .doOnSuccess(v -> confirmed = true)
                .cache();
    }

    /** Opens {@code url} for a streamed upload; fails if the server does not offer it or refuses writes. */
    static Mono<ImageSink> open(String url, long size, EndpointOptions endpointOptions) {
        return BlockingIo.call(() -> ImageioClient.create(url, HttpOptions.clientOptions(endpointOptions).withConnections(1)))
                .flatMap(probe -> probe.options()
                        .doFinally(s -> probe.close())
                        .flatMap(options -> {
                            if (!options.writable() || !options.has(Features.SPARSE_STREAM)) {
                                return Mono.error(new ImageIoException("open", url, 0, size, options.writable()
                                        ? "the server does not offer sparse streams (no '" + Features.SPARSE_STREAM
                                                + "' feature); copy without --http-stream"
                                        : "the ticket does not allow writing", null));
                            }
                            return probe.forTransfer(options, 1).map(client -> (ImageSink) new HttpStreamSink(client, size));
                        }));
    }

    @Override
    public String endpoint() {
        return frames.endpoint();
    }

    @Override
    public long size() {
        return frames.size();
    }

    @Override
    public SinkCapabilities capabilities() {
        return frames.capabilities();
    }

    @Override
    public Mono<Void> write(long offset, ByteBuffer data) {
        return frames.write(offset, data);
    }

    @Override
    public Mono<Void> zero(long offset, long length) {
        return frames.zero(offset, length);
    }

    @Override
    public Mono<Void> skip(long offset, long length) {
        return frames.skip(offset, length);
    }

    /** Ends the stream (stop frame), ends the request body, and waits for the server to accept it all. */
    @Override
    public Mono<Void> finish() {
        return end;
    }

    /**
     * The same as {@link #finish()}: the server flushes the image before it answers (the request
     * does not say {@code flush=n}). A stream cannot be made durable midway, only at its end.
     */
    @Override
    public Mono<Void> flush() {
        return end;
    }

    /** Aborts the upload unless the server confirmed it, and closes the connection. Safe to call twice. */
    @Override
    public void close() {
        if (!confirmed) {
            body.abort(new java.io.IOException("upload closed before the server confirmed the end of the stream"));
        }
        client.close();
    }
}
