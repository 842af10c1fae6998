package io.extentflow.sinks.qcow2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.testing.ExternalTool;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A source for sink tests (the sinks module has no image readers): the bytes come from a raw file
 * and the extents from {@code qemu-img map --output=json} of an image with the same content, so
 * qemu, not the test, says what is data, zero, and (for an overlay's top layer) left to the backing
 * chain.
 */
final class QemuMappedSource implements ImageSource {

    private final Path raw;
    private final FileChannel channel;
    private final long size;
    private final List<Extent> extents;

    private QemuMappedSource(Path raw, long size, List<Extent> extents) throws IOException {
        this.raw = raw;
        this.channel = FileChannel.open(raw, StandardOpenOption.READ);
        this.size = size;
        this.extents = extents;
    }

    /**
     * The image {@code mapped} (any format qemu reads), its bytes read from {@code raw}. With
     * {@code topLayerOnly}, ranges that the top layer leaves to its backing chain are holes that
     * do not read as zeros.
     */
    static QemuMappedSource of(Path mapped, Path raw, boolean topLayerOnly) throws IOException {
        JsonNode map = new ObjectMapper().readTree(ExternalTool.check("qemu-img", "map", "--output=json", mapped.toString()));
        List<Extent> extents = new ArrayList<>();
        long end = 0;
        for (JsonNode e : map) {
            long start = e.get("start").asLong();
            long length = e.get("length").asLong();
            boolean below = e.get("depth").asInt() > 0;
            Extent x;
            if (topLayerOnly && below) {
                x = new Extent(start, length, false, true);
            } else if (e.get("data").asBoolean()) {
                x = Extent.data(start, length);
            } else {
                x = e.get("present").asBoolean() ? Extent.zero(start, length) : Extent.hole(start, length);
            }
            extents.add(x);
            end = start + length;
        }
        return new QemuMappedSource(raw, end, extents);
    }

    /** How many bytes the extents mark as data. */
    long dataBytes() {
        return extents.stream().filter(Extent::isData).mapToLong(Extent::length).sum();
    }

    @Override
    public String endpoint() {
        return "file:" + raw;
    }

    @Override
    public String format() {
        return "raw";
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public Flux<Extent> extents(long start, long length) {
        long end = start + length;
        return Flux.fromIterable(extents).filter(e -> e.end() > start && e.start() < end).map(e -> e.clip(start, end));
    }

    @Override
    public Mono<Void> read(long offset, ByteBuffer target) {
        return BlockingIo.run(() -> {
            long pos = offset;
            while (target.hasRemaining()) {
                int n = channel.read(target, pos);
                if (n < 0) {
                    throw new IOException("read past the end of " + raw + " at " + pos);
                }
                pos += n;
            }
        });
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only
        }
    }
}
