package io.extentflow.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.cli.args.UsageException;
import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.AllocationDepth;
import io.extentflow.engine.capability.AllocationExtents;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.capability.HostOffsets;
import io.extentflow.engine.capability.StatusMap;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.imageio.ImageioJson;
import io.extentflow.engine.map.MapEntry;
import io.extentflow.engine.map.QemuMapHuman;
import io.extentflow.engine.map.QemuMapJson;
import io.extentflow.engine.nbd.NbdMapFormat;
import io.extentflow.engine.nbd.message.NbdProtocol;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.function.IntFunction;
import reactor.core.publisher.Flux;

/**
 * {@code extentflow map IMAGE}: where an image's data is. What is printed depends on what the source
 * can report, asked for as capabilities: sources with {@link HostOffsets} (local raw and qcow2
 * files) print the text {@code qemu-img map} prints; sources with {@link AllocationExtents} (NBD)
 * what {@code nbdinfo --map} prints; the others, and {@code --output=extents}, their extents. With
 * {@code --context CONTEXT} any source that reports that context prints what
 * {@code nbdinfo --map=CONTEXT} prints (e.g. a dirty bitmap of an NBD export or a qcow2 image).
 */
final class MapCommand {

    /** The endpoint option that opens a dirty bitmap, found by name: the CLI names no backend's option. */
    private static final String DIRTY_BITMAP_OPTION = "dirty-bitmap";

    /** qemu's raw driver sees a file's size rounded up to whole 512-byte sectors. */
    private static final int QEMU_SECTOR = 512;

    private final EndpointFlags endpoints = EndpointFlags.forReading();
    private String image;
    private String output;
    private long startOffset;
    private Long maxLength;
    private String context;

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
                .option("--context", "CONTEXT", "Map this block status context as 'nbdinfo --map=CONTEXT' does: "
                        + "base:allocation, qemu:allocation-depth or qemu:dirty-bitmap:NAME (which opens the "
                        + "bitmap NAME of an NBD export or qcow2 image, as --dirty-bitmap NAME).", null,
                        v -> c.context = v)
                .action(c::call);
    }

    private int call(Console console) {
        if (!output.equals("json") && !output.equals("human") && !output.equals("extents")) {
            throw new UsageException("extentflow map",
                    "--output must be json, human or extents, not '" + output + "'");
        }
        if (context != null && output.equals("extents")) {
            throw new UsageException("extentflow map", "--context prints json or human, not extents");
        }
        EndpointOptions options = endpoints.options();
        if (context != null && context.startsWith(NbdProtocol.CONTEXT_DIRTY_BITMAP_PREFIX)) {
            options = options.withParsed(Endpoints.option(DIRTY_BITMAP_OPTION), context);
        }
        ImageSource source = Endpoints.source(image, options).block();
        try (source) {
            PrintWriter out = console.out();
            boolean extentsOnly = output.equals("extents");
            Optional<HostOffsets> hostMap = extentsOnly || context != null ? Optional.empty()
                    : source.capability(HostOffsets.class);
            Optional<? extends StatusMap> allocation = extentsOnly || hostMap.isPresent()
                    ? Optional.empty() : context != null ? Optional.of(statusMap(source))
                    : source.capability(AllocationExtents.class);
            long size = hostMap.isPresent() ? qemuSize(source) : source.size();
            if (startOffset > size) {
                throw new IllegalArgumentException("--start-offset " + startOffset + " is past the end of " + image
                        + " (size " + size + ")");
            }
            long length = Math.min(size - startOffset, maxLength == null ? Long.MAX_VALUE : maxLength);
            try {
                if (hostMap.isPresent()) {
                    printQemuMap(source.size(), hostMap.get(), length, out);
                } else if (allocation.isPresent()) {
                    printStatusMap(allocation.get(), length, out);
                } else {
                    printExtents(source, length, out);
                }
            } finally {
                out.flush(); // what was printed before an error, as qemu-img does
            }
        }
        return ExitCodes.OK;
    }

    /** The source's view of {@link #context}, or a failure naming what it can report. */
    private StatusMap statusMap(ImageSource source) {
        Optional<? extends StatusMap> view = context.equals(NbdProtocol.CONTEXT_BASE_ALLOCATION)
                ? source.capability(AllocationExtents.class)
                : context.equals(NbdProtocol.CONTEXT_ALLOCATION_DEPTH) ? source.capability(AllocationDepth.class)
                : context.startsWith(NbdProtocol.CONTEXT_DIRTY_BITMAP_PREFIX) ? source.capability(DirtyExtents.class)
                : Optional.empty();
        return view.orElseThrow(() -> new IllegalArgumentException(image + " does not report the context "
                + context + " (known: " + NbdProtocol.CONTEXT_BASE_ALLOCATION + ", "
                + NbdProtocol.CONTEXT_ALLOCATION_DEPTH + ", " + NbdProtocol.CONTEXT_DIRTY_BITMAP_PREFIX + "NAME)"));
    }

    /**
     * What {@code nbdinfo --map} (human) or {@code nbdinfo --map --json} prints for the status,
     * printed as the ranges come: a fragmented export has millions.
     */
    private void printStatusMap(StatusMap status, long length, PrintWriter out) {
        if (output.equals("human")) {
            NbdMapText text = new NbdMapText(out, status.context());
            Each.of(status.map(startOffset, length)).forEach(text::add);
            text.finish();
        } else {
            NbdMapFormat json = new NbdMapFormat(out, status.context());
            Each.of(status.map(startOffset, length)).forEach(json::add);
            json.finish();
        }
    }

    /** What {@code qemu-img map} prints; {@code realSize} is the source's size, not rounded to sectors. */
    private void printQemuMap(long realSize, HostOffsets hostMap, long length, PrintWriter out) {
        long end = startOffset + length;
        Flux<MapEntry> entries = startOffset < realSize && length > 0
                ? hostMap.map(startOffset, Math.min(end, realSize) - startOffset)
                : Flux.empty();
        if (end > realSize) {
            // the part of qemu's last sector past the end of the file reads as zeros
            long from = Math.max(startOffset, realSize);
            entries = entries.concatWithValues(new MapEntry(from, end - from, 0, true, true, false, from, null));
        }
        if (output.equals("json")) {
            QemuMapJson json = new QemuMapJson(out, startOffset);
            Each.of(entries).forEach(json::add);
            json.finish();
        } else {
            QemuMapHuman human = new QemuMapHuman(out, fileAtDepth(hostMap));
            Each.of(entries).forEach(human::add);
            human.finish();
        }
    }

    /** The file qemu names in the human map's "File" column for each layer of the image. */
    private static IntFunction<String> fileAtDepth(HostOffsets hostMap) {
        List<String> files = hostMap.files().stream().map(Object::toString).toList();
        return files::get;
    }

    private void printExtents(ImageSource source, long length, PrintWriter out) {
        StringBuilder line = new StringBuilder(80);
        out.print('[');
        boolean first = true;
        if (length > 0) {
            for (Extent e : Each.of(source.extents(startOffset, length))) {
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
