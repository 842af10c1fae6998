package io.extentflow.engine.map;

import reactor.core.publisher.Flux;

/**
 * A source that knows where its data lives in host files (raw and qcow2 files), and can answer
 * {@code qemu-img map}-style entries.
 */
public interface HostMappable {

    /**
     * The map of {@code [start, start + length)}, ascending and contiguous, entries merged exactly
     * as {@code qemu-img map --output=json} merges them (equal flags, depth and contiguous offsets).
     */
    Flux<MapEntry> map(long start, long length);
}
