package io.extentflow.engine.capability;

import io.extentflow.engine.io.OpenFile;

/**
 * The source's bytes are those of one local file at the same offsets: guest offset {@code o} is
 * file offset {@code o} for the whole image (a raw file or block device). A sink on a local file can
 * then have the kernel copy the data ({@link OffloadedCopy}) instead of the copy reading and writing
 * it.
 */
public interface LocalFileBytes extends SourceCapability {

    /** The open file; valid while the source is open. The caller must not close it. */
    OpenFile file();
}
