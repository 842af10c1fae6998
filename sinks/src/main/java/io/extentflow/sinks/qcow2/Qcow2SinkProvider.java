package io.extentflow.sinks.qcow2;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.endpoint.FormatOptions;
import io.extentflow.engine.endpoint.SinkProvider;
import io.extentflow.engine.endpoint.StreamAddress;
import io.extentflow.engine.io.BlockingIo;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * Opens local files (plain paths and {@code file:} URIs) as qcow2 targets: those named
 * {@code *.qcow2}, unless another output format is asked for, and every file when qcow2 is
 * ({@link FormatOptions#OUTPUT_FORMAT}). The layout comes from {@link Qcow2Options}: 64 KiB clusters,
 * no compression and no backing file unless given. Asked before the raw
 * {@link io.extentflow.sinks.file.FileSinkProvider}, which takes every other file.
 */
public final class Qcow2SinkProvider implements SinkProvider {

    private static final String FORMAT = "qcow2";

    @Override
    public boolean accepts(String address) {
        return FileAddress.isFile(address) && FileAddress.toPath(address).getFileName() != null
                && FileAddress.toPath(address).getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".qcow2");
    }

    @Override
    public boolean accepts(String address, String format) {
        // "-" is standard output, never a file of that name
        return format == null ? accepts(address)
                : format.equals(FORMAT) && FileAddress.isFile(address) && !StreamAddress.isStdio(address);
    }

    @Override
    public Set<String> formats() {
        return Set.of(FORMAT);
    }

    @Override
    public List<EndpointOption<?>> options() {
        List<EndpointOption<?>> all = new ArrayList<>(Qcow2Options.all());
        all.addFirst(FormatOptions.OUTPUT_FORMAT);
        return List.copyOf(all);
    }

    @Override
    public String addresses() {
        return "a file path ending in .qcow2 (written as qcow2)";
    }

    @Override
    public String kind() {
        return "qcow2 file";
    }

    /** Before the raw file provider (100). */
    @Override
    public int order() {
        return 90;
    }

    /**
     * No: the image's metadata is in memory until the copy finishes, and a file left by a killed copy
     * is refused by {@link #openSink} (it is not empty); such a copy starts again from zero.
     */
    @Override
    public boolean resumable(String address, EndpointOptions options) {
        return false;
    }

    /**
     * Removes the file a killed copy left: one without the qcow2 magic, which the sink writes last
     * ({@link Qcow2FileSink}). A finished image (with its magic) and anything that is not a regular
     * file are left alone, for the opening to refuse.
     */
    @Override
    public Mono<Void> discardPartial(String address, EndpointOptions options) {
        return BlockingIo.run(() -> Qcow2FileSink.removeUnfinished(FileAddress.toPath(address)));
    }

    @Override
    public Mono<ImageSink> openSink(String address, long size, EndpointOptions options) {
        return Mono.defer(() -> Qcow2FileSink.open(FileAddress.toPath(address), size, Qcow2Options.of(options))
                .cast(ImageSink.class));
    }
}
