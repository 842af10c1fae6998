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

    private FileSinkOptions() {
    }
}
