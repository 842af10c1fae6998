package io.extentflow.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.io.Posix;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Map;

/** {@code extentflow info IMAGE}: format, sizes and format details of an image. */
final class InfoCommand {

    private final EndpointFlags endpoints = new EndpointFlags();
    private String image;
    private boolean json;

    /** The command line of a new info command. */
    static CommandSpec spec() {
        InfoCommand c = new InfoCommand();
        return CommandSpec.named("info", "Shows the format, virtual size, allocation and format details of IMAGE.",
                        "'allocated' is the disk space of a local file (st_blocks * 512); 'data' is what the "
                                + "image's extents say must be copied.")
                .parameter("IMAGE", "Image address (path, nbd://, http://...).", v -> c.image = v)
                .with(c.endpoints::define)
                .flag("--json", "Print one JSON object (for scripts).", () -> c.json = true)
                .action(c::call);
    }

    private int call(Console console) throws IOException {
        ImageSource source = Endpoints.source(image, endpoints.options()).block();
        try (source) {
            Long allocated = FileAddress.isFile(image) ? Posix.allocatedBytes(FileAddress.toPath(image)) : null;
            long dataBytes = 0;
            long dataExtents = 0;
            for (Extent e : source.extents(0, source.size()).toIterable()) {
                if (e.isData()) {
                    dataBytes += e.length();
                    dataExtents++;
                }
            }
            PrintWriter out = console.out();
            if (json) {
                ObjectNode o = Json.MAPPER.createObjectNode()
                        .put("image", image)
                        .put("format", source.format())
                        .put("virtual-size", source.size());
                if (allocated != null) {
                    o.put("allocated-bytes", allocated);
                }
                o.put("data-bytes", dataBytes).put("data-extents", dataExtents);
                o.set("details", Json.MAPPER.valueToTree(source.details()));
                out.println(o);
            } else {
                out.println("image: " + image);
                out.println("format: " + source.format());
                out.println("virtual size: " + withBytes(source.size()));
                if (allocated != null) {
                    out.println("allocated: " + withBytes(allocated));
                }
                out.println("data: " + withBytes(dataBytes) + " in " + dataExtents + " extents");
                for (Map.Entry<String, Object> d : source.details().entrySet()) {
                    out.println(d.getKey() + ": " + d.getValue());
                }
            }
            out.flush();
        }
        return ExitCodes.OK;
    }

    private static String withBytes(long n) {
        return Sizes.human(n) + " (" + n + " bytes)";
    }
}
