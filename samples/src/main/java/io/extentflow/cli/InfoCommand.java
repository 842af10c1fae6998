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
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/** {@code extentflow info IMAGE}: format, sizes and format details of an image. */
final class InfoCommand {

    /** Detail names whose fact qemu-img info --output=json reports under another name. */
    private static final Map<String, String> QEMU_NAMES = Map.of(
            "cluster size", "cluster-size",
            "backing file", "backing-filename",
            "backing file format", "backing-filename-format",
            "dirty", "dirty-flag");
    /** Details qemu-img reports in format-specific.data. */
    private static final Set<String> FORMAT_SPECIFIC = Set.of("compat", "compression type", "extended l2",
            "refcount bits", "lazy refcounts", "corrupt");

    private final EndpointFlags endpoints = EndpointFlags.forReading();
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
            for (Extent e : Each.of(source.extents(0, source.size()))) {
                if (e.isData()) {
                    dataBytes += e.length();
                    dataExtents++;
                }
            }
            PrintWriter out = console.out();
            if (json) {
                ObjectNode o = Json.MAPPER.createObjectNode()
                        .put("filename", image)
                        .put("format", source.format())
                        .put("virtual-size", source.size());
                if (allocated != null) {
                    o.put("actual-size", allocated);
                }
                o.put("data-bytes", dataBytes).put("data-extents", dataExtents);
                putDetails(o, source.format(), source.details());
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

    /**
     * The format's details under the names {@code qemu-img info --output=json} gives the same facts
     * (so scripts written for it read ours), the format's own in {@code format-specific.data}, and
     * the facts qemu-img does not report in kebab-case.
     */
    private void putDetails(ObjectNode o, String format, Map<String, Object> details) {
        ObjectNode specific = Json.MAPPER.createObjectNode();
        for (Map.Entry<String, Object> d : details.entrySet()) {
            String key = d.getKey();
            String name = QEMU_NAMES.getOrDefault(key, kebab(key));
            ObjectNode into = FORMAT_SPECIFIC.contains(key) ? specific : o;
            into.set(name, Json.MAPPER.valueToTree(d.getValue()));
            if (key.equals("backing file") && FileAddress.isFile(image) && d.getValue() instanceof String written) {
                // as qemu-img: a relative name joined to the folder of the image that names it
                Path backing = Path.of(written);
                Path folder = FileAddress.toPath(image).toAbsolutePath().getParent();
                o.put("full-backing-filename", backing.isAbsolute() || folder == null ? written
                        : folder.resolve(backing).toString());
            }
        }
        if (!specific.isEmpty()) {
            ObjectNode formatSpecific = o.putObject("format-specific");
            formatSpecific.put("type", format);
            formatSpecific.set("data", specific);
        }
    }

    private static String kebab(String words) {
        return words.strip().replace(' ', '-');
    }

    private static String withBytes(long n) {
        return Sizes.human(n) + " (" + n + " bytes)";
    }
}
