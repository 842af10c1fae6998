package io.extentflow.server;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;

/**
 * The image behind a ticket, opened once and shared by all its requests.
 *
 * @param source reads, extents and checksums
 * @param sink   writes, zeroing and flushes; null for a read-only ticket
 */
record Backend(ImageSource source, ImageSink sink) {

    void close() {
        if (sink != null) {
            sink.close();
        }
        source.close();
    }
}
