package io.extentflow.engine.capability;

import io.extentflow.engine.map.MapEntry;
import java.nio.file.Path;
import java.util.List;
import reactor.core.publisher.Flux;

/**
 * Where the image's data lives in host files (raw and qcow2 files, with their backing chains):
 * {@code qemu-img map}'s entries, with their host {@code offset}s and chain depths.
 */
public interface HostOffsets extends SourceCapability {

    /**
     * The map of {@code [start, start + length)}, ascending and contiguous, entries merged exactly
     * as {@code qemu-img map --output=json} merges them (equal flags, depth and contiguous offsets).
     */
    Flux<MapEntry> map(long start, long length);

    /**
     * The files of the image, top first: index {@link MapEntry#depth()} names the file an entry's
     * host offset is in (what {@code qemu-img map} prints in its "File" column).
     */
    List<Path> files();
}
