package io.extentflow.sources.http;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.imageio.Features;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.engine.imageio.ImageioClient;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.ByteBufInputChannel;
import io.extentflow.sources.stream.SparseStreamSource;
import reactor.core.publisher.Mono;

/**
 * An imageio image downloaded as one sparse stream ({@code GET ?format=sparse}, our extension): one
 * request for the whole image instead of one per extent, read front to back with backpressure to
 * the socket. Used when the caller asks for it ({@link HttpOptions#HTTP_STREAM}).
 */
final class HttpStreamSource {

    private HttpStreamSource() {
    }

    /** Opens {@code url} as a stream; fails if the server does not offer {@value Features#SPARSE_STREAM}. */
    static Mono<ImageSource> open(String url, EndpointOptions endpointOptions) {
        return BlockingIo.call(() -> ImageioClient.create(url, HttpOptions.clientOptions(endpointOptions).withConnections(1)))
                .flatMap(probe -> probe.options()
                        .doFinally(s -> probe.close())
                        .flatMap(options -> {
                            if (!options.has(Features.SPARSE_STREAM)) {
                                return Mono.error(new ImageIoException("open", url, 0, 0, "the server does not offer "
                                        + "sparse streams (no '" + Features.SPARSE_STREAM + "' feature); copy without "
                                        + "--http-stream", null));
                            }
                            long size = options.size().orElse(ImageSource.UNKNOWN_SIZE);
                            return probe.forTransfer(options, 1).map(client -> {
                                ByteBufInputChannel body = new ByteBufInputChannel(client.sparseDownload());
                                return (ImageSource) new SparseStreamSource(body, client.url(), size, client::close);
                            });
                        }));
    }
}
