package io.extentflow.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.cli.args.UsageException;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.checksum.BlockHash;
import io.extentflow.engine.checksum.ImageChecksum;
import io.extentflow.engine.endpoint.Endpoints;
import java.io.PrintWriter;
import java.util.Map;

/**
 * {@code extentflow checksum IMAGE}: the blkhash checksum ovirt-imageio's {@code /checksum} gives for
 * the same content, from any source, without reading zero extents.
 */
final class ChecksumCommand {

    private final EndpointFlags endpoints = EndpointFlags.forReading();
    private String image;
    private String algorithm;
    private long blockSize;
    private boolean json;

    /** The command line of a new checksum command. */
    static CommandSpec spec() {
        ChecksumCommand c = new ChecksumCommand();
        return CommandSpec.named("checksum", "Prints the checksum of IMAGE's content as ovirt-imageio's "
                        + "GET /images/TICKET/checksum computes it (blkhash: a hash per block, zero blocks never "
                        + "read), for any address (file, qcow2, NBD, HTTP). Equal checksums mean equal content, "
                        + "whatever the format.")
                .parameter("IMAGE", "Image address.", v -> c.image = v)
                .with(c.endpoints::define)
                .option("--algorithm", "NAME", "Hash algorithm, as GET /images/TICKET/checksum/algorithms lists "
                        + "them.", BlockHash.DEFAULT_ALGORITHM, v -> c.algorithm = v)
                .option("--block-size", "SIZE", "Block size, 1 MiB to 16 MiB.", "4MiB",
                        v -> c.blockSize = Sizes.parse(v))
                .flag("--json", "Print imageio's reply: {\"algorithm\", \"block_size\", \"checksum\"}.",
                        () -> c.json = true)
                .action(c::call);
    }

    private int call(Console console) throws Exception {
        if (!BlockHash.algorithms().contains(algorithm)) {
            throw new UsageException("extentflow checksum", "--algorithm must be one of " + BlockHash.algorithms());
        }
        if (blockSize < ImageChecksum.MIN_BLOCK_SIZE || blockSize > ImageChecksum.MAX_BLOCK_SIZE) {
            throw new UsageException("extentflow checksum", "--block-size must be 1 MiB to 16 MiB");
        }
        ImageSource source = Endpoints.source(image, endpoints.options()).block();
        try (source) {
            if (source.size() < 0) {
                throw new IllegalArgumentException(image + ": a stream has no checksum until it is stored");
            }
            Map<String, Object> result = ImageChecksum.compute(source, source.size(), algorithm, (int) blockSize)
                    .block();
            PrintWriter out = console.out();
            out.println(json ? Json.MAPPER.writeValueAsString(result) : result.get("checksum") + "  " + image);
            out.flush();
        }
        return ExitCodes.OK;
    }
}
