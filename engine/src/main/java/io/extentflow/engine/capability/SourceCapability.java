package io.extentflow.engine.capability;

/**
 * Something a source can report beyond its extents: where its data lies in host files
 * ({@link HostOffsets}), its allocation status in a block-status protocol's own words
 * ({@link AllocationExtents}), which layer of a backing chain holds each range
 * ({@link AllocationDepth}). Callers ask a source with
 * {@link io.extentflow.engine.ImageSource#capability(Class)} instead of testing its type, so a new
 * backend offers what it can by answering that call, and a new kind of report (such as dirty extents
 * for incremental backup) is one more interface extending this one.
 *
 * <p>A capability is a view of its source: it is valid while the source is open.
 */
public interface SourceCapability {
}
