package io.extentflow.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.cli.args.UsageException;
import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.sinks.qcow2.Qcow2Measure;
import io.extentflow.sinks.qcow2.Qcow2Options;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code extentflow measure SRC}: how large a file a copy of SRC needs in the output format, as
 * {@code qemu-img measure -O FORMAT} prints it (the same text and JSON keys). For qcow2, {@code required}
 * is exactly the length of the file a copy writes in one pass (to a pipe or an imageio ticket), so a
 * user can create a ticket's file of that size first; {@code fully-allocated} is what an image with
 * every cluster allocated takes.
 */
final class MeasureCommand {

    private final EndpointFlags endpoints = EndpointFlags.forReading();
    private String image;
    private String format = "raw";
    private String clusterSize;
    private String output = "human";

    /** The command line of a new measure command. */
    static CommandSpec spec() {
        MeasureCommand c = new MeasureCommand();
        return CommandSpec.named("measure", "Prints the file size a copy of IMAGE needs in the output format, "
                                + "as 'qemu-img measure' does.",
                        "'required' is what a copy of IMAGE's content needs; for qcow2 it is exactly the length of the "
                                + "image a copy writes in one pass (to standard output, a pipe or an imageio ticket): "
                                + "give an imageio ticket a file of at least that size. 'fully allocated' is the "
                                + "size with every cluster holding data.")
                .parameter("IMAGE", "Image address (path, nbd://, http://...).", v -> c.image = v)
                .with(c.endpoints::define)
                .option("--output-format", "FORMAT", "raw or qcow2, as 'qemu-img measure -O'.", "raw",
                        v -> c.format = v)
                .option("--cluster-size", "SIZE", "Cluster size of the qcow2 image: a power of two from 4K to 2M. "
                        + "Default: 64K.", null, v -> c.clusterSize = v)
                .option("--output", "FORMAT", "human or json (the keys of 'qemu-img measure --output=json').",
                        "human", v -> c.output = v)
                .action(c::call);
    }

    private int call(Console console) throws IOException {
        if (!output.equals("human") && !output.equals("json")) {
            throw new UsageException("extentflow measure", "--output must be human or json, not '" + output + "'");
        }
        if (!format.equals("raw") && !format.equals("qcow2")) {
            throw new UsageException("extentflow measure", "--output-format must be raw or qcow2, not '" + format + "'");
        }
        EndpointOptions layout = EndpointOptions.defaults();
        if (clusterSize != null) {
            if (format.equals("raw")) {
                throw new UsageException("extentflow measure", "--cluster-size applies to --output-format qcow2");
            }
            try {
                layout = layout.withParsed(Qcow2Options.CLUSTER_SIZE, clusterSize);
            } catch (IllegalArgumentException e) {
                throw new UsageException("extentflow measure", "--cluster-size " + e.getMessage());
            }
        }
        ImageSource source = Endpoints.source(image, endpoints.options()).block();
        Qcow2Measure measure;
        try (source) {
            long size = source.size();
            if (size == ImageSource.UNKNOWN_SIZE) {
                throw new IllegalArgumentException(image + ": a stream tells its size only at its end; measure a file");
            }
            if (format.equals("raw")) {
                measure = new Qcow2Measure(size, size);
            } else {
                List<Extent> extents = new ArrayList<>();
                for (Extent e : Each.of(source.extents(0, size))) {
                    extents.add(e);
                }
                measure = Qcow2Measure.of(image, size, Qcow2Options.of(layout), extents);
            }
        }
        PrintWriter out = console.out();
        if (output.equals("json")) {
            // qemu-img's layout, so that scripts that read its output read ours
            out.println("{");
            out.println("    \"required\": " + measure.required() + ",");
            out.println("    \"fully-allocated\": " + measure.fullyAllocated());
            out.println("}");
        } else {
            out.println("required size: " + measure.required());
            out.println("fully allocated size: " + measure.fullyAllocated());
        }
        out.flush();
        return ExitCodes.OK;
    }
}
