package io.extentflow.sinks.http;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.SinkCapabilities;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.imageio.Features;
import io.extentflow.engine.imageio.ImageioClient;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.ByteBufOutputChannel;
import io.extentflow.sinks.stream.SparseStreamSink;
import java.nio.ByteBuffer;
import reactor.core.publisher.Mono;

/**
 * An imageio image uploaded as one sparse stream ({@code PUT ?format=sparse}, our extension): one
 * chunked request for the whole copy. Frames are written by a {@link SparseStreamSink} into a
 * channel whose bytes are the request body, so a slow server slows the copy. The flush ends the
 * stream and waits for the server's answer.
 */
final class HttpStreamSink implements ImageSink {

    private final SparseStreamSink frames;
    private final ByteBufOutputChannel body;
    private final Mono<Void> response;
    private final ImageioClient client;

    private HttpStreamSink(ImageioClient client, long size) {
        this.client = client;
        this.body = new ByteBufOutputChannel();
        this.frames = new SparseStreamSink(body, false, client.url(), size);
        // the request starts now; its body is produced as the copy writes frames
        this.response = client.sparseUpload(body.body()).cache();
        this.response.subscribe(v -> { }, e -> body.abort(e));
    }

    /** Opens {@code url} for a streamed upload; fails if the server does not offer it or refuses writes. */
    static Mono<ImageSink> open(String url, long size, EndpointOptions endpointOptions) {
        return BlockingIo.call(() -> ImageioClient.create(url, endpointOptions, 1, endpointOptions.retries()))
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
    public Mono<Void> flush() {
        return frames.flush().then(Mono.fromRunnable(body::close)).then(response);
    }

    @Override
    public void close() {
        body.abort(new java.io.IOException("upload closed before the stream ended"));
        client.close();
    }
}
