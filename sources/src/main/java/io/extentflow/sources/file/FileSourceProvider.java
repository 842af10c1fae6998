package io.extentflow.sources.file;

import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.endpoint.SourceProvider;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.FileProbe;
import io.extentflow.sources.ChainOptions;
import io.extentflow.sources.DirtyOptions;
import io.extentflow.sources.qcow2.Qcow2Source;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Opens local files (plain paths and {@code file:} URIs), choosing the format by magic: qcow2 files
 * start with {@code QFI\xfb} and open as {@link Qcow2Source} (with their backing chain, or only the top
 * layer when {@link ChainOptions#TOP_LAYER_ONLY}, and its dirty bitmap with
 * {@link DirtyOptions#DIRTY_BITMAP}), anything else is raw.
 */
public final class FileSourceProvider implements SourceProvider {

    private static final int QCOW2_MAGIC = 0x514649fb;

    @Override
    public boolean accepts(String address) {
        return FileAddress.isFile(address);
    }

    @Override
    public int order() {
        return 100;
    }

    @Override
    public String addresses() {
        return "a file path or file: URI (raw or qcow2)";
    }

    @Override
    public String kind() {
        return "image file";
    }

    @Override
    public List<EndpointOption<?>> options() {
        return List.of(ChainOptions.TOP_LAYER_ONLY, DirtyOptions.DIRTY_BITMAP);
    }

    @Override
    public Mono<ImageSource> openSource(String address, EndpointOptions options) {
        return BlockingIo.call(() -> openNow(FileAddress.toPath(address), options));
    }

    private static ImageSource openNow(Path path, EndpointOptions options) throws IOException {
        FileProbe.requireReadable(path);
        String format = detect(path);
        String bitmap = options.get(DirtyOptions.DIRTY_BITMAP);
        if (format.equals("qcow2")) {
            return Qcow2Source.openNow(path, options.get(ChainOptions.TOP_LAYER_ONLY),
                    bitmap == null ? null : DirtyOptions.bitmapName(bitmap));
        }
        if (bitmap != null) {
            throw new IOException(path + ": a raw file has no dirty bitmaps (--dirty-bitmap " + bitmap
                    + " needs a qcow2 image or an NBD export)");
        }
        return RawFileSource.openNow(path, RawFileSource.DEFAULT_WINDOW);
    }

    /** {@code qcow2} or {@code raw}, by the first four bytes. Blocking. */
    public static String detect(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer magic = ByteBuffer.allocate(4);
            while (magic.hasRemaining() && ch.read(magic, magic.position()) > 0) {
                // read until four bytes or end of file
            }
            return magic.position() == 4 && magic.getInt(0) == QCOW2_MAGIC ? "qcow2" : "raw";
        }
    }
}
