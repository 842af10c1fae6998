package io.extentflow.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.cli.args.UsageException;
import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.imageio.ImageioJson;
import io.extentflow.engine.map.HostMappable;
import io.extentflow.engine.map.MapEntry;
import io.extentflow.engine.map.QemuMapHuman;
import io.extentflow.engine.map.QemuMapJson;
import io.extentflow.engine.nbd.NbdMapFormat;
import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.sources.nbd.NbdSource;
import io.extentflow.sources.qcow2.Qcow2Source;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntFunction;
import reactor.core.publisher.Flux;

/**
 * {@code extentflow map IMAGE}: where an image's data is. For local files the output is the same
 * text {@code qemu-img map} prints; other sources print their extents.
 */
final class MapCommand {

    /** qemu's raw driver sees a file's size rounded up to whole 512-byte sectors. */
    private static final int QEMU_SECTOR = 512;

    private final EndpointFlags endpoints = EndpointFlags.forReading();
    private String image;
    private String output;
    private long startOffset;
    private Long maxLength;

    /** The command line of a new map command. */
    static CommandSpec spec() {
        MapCommand c = new MapCommand();
        return CommandSpec.named("map", "Shows where the data of IMAGE is.",
                        "",
                        "--output=json prints exactly what 'qemu-img map --output=json' prints for local raw and "
                                + "qcow2 files; --output=human what 'qemu-img map' prints; --output=extents the "
                                + "imageio-style extents ({\"start\":0,\"length\":65536,\"zero\":false,\"hole\":false}).",
                        "For NBD, --output=json prints what 'nbdinfo --map --json' prints; for HTTP sources json "
                                + "and human print extents.")
                .parameter("IMAGE", "Image address (path, nbd://, http://...).", v -> c.image = v)
                .with(c.endpoints::define)
                .option("--output", "FORMAT", "json, human or extents.", "human", v -> c.output = v)
                .option("--start-offset", "OFFSET", "First byte to map (default: 0).", null,
                        v -> c.startOffset = Sizes.parse(v))
                .option("--max-length", "LENGTH", "Bytes to map at most (default: to the end).", null,
                        v -> c.maxLength = Sizes.parse(v))
                .action(c::call);
    }

    private int call(Console console) {
        if (!output.equals("json") && !output.equals("human") && !output.equals("extents")) {
            throw new UsageException("extentflow map",
                    "--output must be json, human or extents, not '" + output + "'");
        }
        ImageSource source = Endpoints.source(image, endpoints.options()).block();
        try (source) {
            PrintWriter out = console.out();
            boolean mappable = source instanceof HostMappable && !output.equals("extents");
            long size = mappable ? qemuSize(source) : source.size();
            if (startOffset > size) {
                throw new IllegalArgumentException("--start-offset " + startOffset + " is past the end of " + image
                        + " (size " + size + ")");
            }
            long length = Math.min(size - startOffset, maxLength == null ? Long.MAX_VALUE : maxLength);
            try {
                if (mappable) {
                    printQemuMap(source, length, out);
                } else if (source instanceof NbdSource nbd && output.equals("human")) {
                    // what `nbdinfo --map` prints for the export's base:allocation context
                    NbdMapText text = new NbdMapText(out, NbdProtocol.CONTEXT_BASE_ALLOCATION);
                    nbd.client().map(NbdProtocol.CONTEXT_BASE_ALLOCATION, startOffset, length).toIterable()
                            .forEach(text::add);
                    text.finish();
                } else if (source instanceof NbdSource nbd && output.equals("json")) {
                    // what `nbdinfo --map --json` prints for the export's base:allocation context,
                    // printed as the extents come: a fragmented export has millions
                    NbdMapFormat json = new NbdMapFormat(out, NbdProtocol.CONTEXT_BASE_ALLOCATION);
                    nbd.client().map(NbdProtocol.CONTEXT_BASE_ALLOCATION, startOffset, length).toIterable()
                            .forEach(json::add);
                    json.finish();
                } else {
                    printExtents(source, length, out);
                }
            } finally {
                out.flush(); // what was printed before an error, as qemu-img does
            }
        }
        return ExitCodes.OK;
    }

    private void printQemuMap(ImageSource source, long length, PrintWriter out) {
        long realSize = source.size();
        long end = startOffset + length;
        Flux<MapEntry> entries = startOffset < realSize && length > 0
                ? ((HostMappable) source).map(startOffset, Math.min(end, realSize) - startOffset)
                : Flux.empty();
        if (end > realSize) {
            // the part of qemu's last sector past the end of the file reads as zeros
            long from = Math.max(startOffset, realSize);
            entries = entries.concatWithValues(new MapEntry(from, end - from, 0, true, true, false, from, null));
        }
        if (output.equals("json")) {
            QemuMapJson json = new QemuMapJson(out, startOffset);
            entries.toIterable().forEach(json::add);
            json.finish();
        } else {
            QemuMapHuman human = new QemuMapHuman(out, fileAtDepth(source));
            entries.toIterable().forEach(human::add);
            human.finish();
        }
    }

    /** The file qemu names in the human map's "File" column for each layer of the image. */
    private IntFunction<String> fileAtDepth(ImageSource source) {
        if (source instanceof Qcow2Source qcow2) {
            List<Path> chain = qcow2.chainFiles();
            return depth -> chain.get(depth).toString();
        }
        String file = FileAddress.isFile(image) ? FileAddress.toPath(image).toString() : image;
        return depth -> file;
    }

    private void printExtents(ImageSource source, long length, PrintWriter out) {
        StringBuilder line = new StringBuilder(80);
        out.print('[');
        boolean first = true;
        if (length > 0) {
            for (Extent e : source.extents(startOffset, length).toIterable()) {
                line.setLength(0);
                out.print(first ? "" : ",\n");
                out.print(ImageioJson.appendExtent(line, e));
                first = false;
            }
        }
        out.println(']');
    }

    /**
     * The size qemu reports for the image: raw files are rounded up to whole sectors, so the maps of
     * files with odd sizes match too.
     */
    private static long qemuSize(ImageSource source) {
        long size = source.size();
        if (!source.format().equals("raw") || size % QEMU_SECTOR == 0) {
            return size;
        }
        return (size / QEMU_SECTOR + 1) * QEMU_SECTOR;
    }
}
