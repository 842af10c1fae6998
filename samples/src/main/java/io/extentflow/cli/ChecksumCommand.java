package io.extentflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.checksum.BlockHash;
import io.extentflow.engine.checksum.ImageChecksum;
import io.extentflow.engine.endpoint.Endpoints;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code extentflow checksum IMAGE}: the blkhash checksum ovirt-imageio's {@code /checksum} gives for
 * the same content, from any source, without reading zero extents.
 */
@Command(name = "checksum", mixinStandardHelpOptions = true,
        description = {"Prints the checksum of IMAGE's content as ovirt-imageio's GET /images/TICKET/checksum "
                + "computes it (blkhash: a hash per block, zero blocks never read), for any address "
                + "(file, qcow2, NBD, HTTP). Equal checksums mean equal content, whatever the format."})
final class ChecksumCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    EndpointFlags endpoints;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "Image address.")
    String image;

    @Option(names = "--algorithm", paramLabel = "NAME", defaultValue = BlockHash.DEFAULT_ALGORITHM,
            description = "Hash algorithm, as GET /images/TICKET/checksum/algorithms lists them "
                    + "(default: ${DEFAULT-VALUE}).")
    String algorithm;

    @Option(names = "--block-size", paramLabel = "SIZE", converter = Sizes.class, defaultValue = "4MiB",
            description = "Block size, 1 MiB to 16 MiB (default: ${DEFAULT-VALUE}).")
    long blockSize;

    @Option(names = "--json", description = "Print imageio's reply: {\"algorithm\", \"block_size\", \"checksum\"}.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!BlockHash.algorithms().contains(algorithm)) {
            throw new ParameterException(spec.commandLine(), "--algorithm must be one of " + BlockHash.algorithms());
        }
        if (blockSize < ImageChecksum.MIN_BLOCK_SIZE || blockSize > ImageChecksum.MAX_BLOCK_SIZE) {
            throw new ParameterException(spec.commandLine(), "--block-size must be 1 MiB to 16 MiB");
        }
        ImageSource source = Endpoints.source(image, endpoints.options()).block();
        try (source) {
            if (source.size() < 0) {
                throw new IllegalArgumentException(image + ": a stream has no checksum until it is stored");
            }
            Map<String, Object> result = ImageChecksum.compute(source, source.size(), algorithm, (int) blockSize,
                    (int) Math.min(blockSize, 4 << 20)).block();
            PrintWriter out = spec.commandLine().getOut();
            out.println(json ? new ObjectMapper().writeValueAsString(result) : result.get("checksum") + "  " + image);
            out.flush();
        }
        return ExitCodes.OK;
    }
}
