package io.extentflow.engine.checksum;

import reactor.core.publisher.Mono;

/**
 * A source whose server computes checksums itself (an imageio server's {@code /checksum}), so a
 * verification need not bring the image's bytes over the network.
 */
public interface RemoteChecksum {

    /** The blkhash of the whole image, in lower-case hex, as the server computes it; empty if it cannot. */
    Mono<String> remoteChecksum(String algorithm, int blockSize);
}
