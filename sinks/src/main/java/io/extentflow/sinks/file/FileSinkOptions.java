package io.extentflow.sinks.file;

import io.extentflow.engine.endpoint.EndpointOption;

/** Options of file targets only. */
public final class FileSinkOptions {

    /**
     * Write through the page cache and leave what was written there, instead of bypassing the cache
     * where possible (direct I/O) and otherwise writing back to disk as the copy goes and dropping from
     * the cache (the default: a copy's target is not read back, and caching it pushes out what the
     * machine was using).
     */
    public static final EndpointOption<Boolean> KEEP_CACHE = EndpointOption.flag("keep-cache",
            "Leave what is written to a target file in the page cache. By default it bypasses the cache "
                    + "(direct I/O) or is written back to disk as the copy goes and dropped from the cache: the "
                    + "copy never reads it back, and caching it would push out what the machine was using.");

    /**
     * Copy data from a local file with reads and writes through the copy's buffers, scanning it for
     * zeros, instead of letting the kernel copy it ({@code copy_file_range}, the default when the
     * source is a raw file).
     */
    public static final EndpointOption<Boolean> NO_OFFLOAD = EndpointOption.flag("no-offload",
            "Do not let the kernel copy data from a local raw file into a target file (copy_file_range, "
                    + "which shares blocks on XFS and btrfs): read and write it through the copy, where zero "
                    + "detection finds the zeros in it. By default offloaded data is copied as it is.");

    private FileSinkOptions() {
    }
}
