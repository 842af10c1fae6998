package io.extentflow.engine.imageio;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import reactor.core.publisher.Mono;

/** {@code GET .../checksum}: the server's blkhash of the image. */
final class ChecksumFlow {

    private ChecksumFlow() {
    }

    /** The checksum in hex, for {@code algorithm} over blocks of {@code blockSize} bytes. */
    static Mono<String> exchange(ImageioClient client, String algorithm, int blockSize) {
        return client.retrying("checksum", 0, 0, Mono.defer(() -> client.http().get()
                .uri(client.path() + "/checksum?algorithm=" + algorithm + "&block_size=" + blockSize)
                .responseSingle((resp, b) -> resp.status().code() == 200
                        ? b.asByteArray().map(ChecksumFlow::checksumOf)
                        : ErrorReplies.failure(resp, b.asString()))));
    }

    private static String checksumOf(byte[] json) {
        try {
            JsonNode n = ImageioJson.MAPPER.readTree(json).get("checksum");
            if (n == null || !n.isTextual()) {
                throw new IllegalStateException("checksum reply without a checksum");
            }
            return n.asText();
        } catch (IOException e) {
            throw new IllegalStateException("bad checksum reply: " + e.getMessage(), e);
        }
    }
}
