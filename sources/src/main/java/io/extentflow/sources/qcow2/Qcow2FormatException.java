package io.extentflow.sources.qcow2;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A qcow2 file this reader cannot or must not read: corrupt metadata (an offset past the end of the
 * file, a table too large, an invalid entry) or a feature it refuses (encryption, external data
 * files, unknown incompatible features). The message is one line naming the image and the problem.
 */
public final class Qcow2FormatException extends IOException {

    /** @param image the qcow2 file, named in the message */
    public Qcow2FormatException(Path image, String problem) {
        super(image + ": " + problem);
    }
}
