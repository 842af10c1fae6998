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
            "Leave what is written to a target file in the page cache. By default a copy that flushes "
                    + "bypasses the cache (direct I/O) or writes back to disk as it goes and drops what it wrote "
                    + "from the cache: the copy never reads it back, and caching it would push out what the "
                    + "machine was using. (With --no-flush the writes stay in the cache anyway.)");

    /**
     * Write aligned data with direct I/O also in a copy that will not flush ({@code --no-flush}),
     * which otherwise writes through the page cache for the fastest return. For a machine whose
     * page cache costs more than waiting for its disk (perf/README.md, "Two modes").
     */
    public static final EndpointOption<Boolean> DIRECT = EndpointOption.flag("direct",
            "Write aligned data to a target file with direct I/O (O_DIRECT) also with --no-flush. By "
                    + "default a copy that flushes writes direct (writes of 1 MiB or more: it waits for the "
                    + "disk anyway, and direct I/O costs the least CPU) and one with --no-flush writes through the page cache and "
                    + "returns with the data there, as qemu-img convert and cp do.");

    /**
     * Copy data from a local file with reads and writes through the copy's buffers, scanning it for
     * zeros, instead of letting the kernel copy it ({@code copy_file_range}).
     */
    public static final EndpointOption<Boolean> NO_OFFLOAD = EndpointOption.flag("no-offload",
            "Never let the kernel copy data from a local raw file into a target file: read and write it "
                    + "through the copy, where zero detection finds the zeros in it. By default the kernel "
                    + "copies it (copy_file_range) where the target's file system shares blocks or copies on "
                    + "the server (XFS, btrfs, NFS, ...): there it costs next to nothing.");

    /**
     * Let the kernel copy data from a local raw file on every file system, also where it copies the
     * bytes itself (ext4, tmpfs): measured no faster there than the copy's direct writes, and it uses
     * more CPU, so it is not the default there.
     */
    public static final EndpointOption<Boolean> OFFLOAD = EndpointOption.flag("offload",
            "Let the kernel copy data from a local raw file into a target file (copy_file_range) on every "
                    + "file system, also where it copies the bytes itself instead of sharing blocks (ext4, "
                    + "tmpfs): by default only where that costs next to nothing (XFS, btrfs, NFS, ...).");

    private FileSinkOptions() {
    }
}
