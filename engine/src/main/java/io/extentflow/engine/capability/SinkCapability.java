package io.extentflow.engine.capability;

/**
 * Something a sink can do beyond writes and zero requests, such as copying data from a source
 * without the copy's buffers ({@link OffloadedCopy}). The copy asks a sink with
 * {@link io.extentflow.engine.ImageSink#sinkCapability(Class)} instead of testing its type, so a new
 * backend offers what it can by answering that call.
 *
 * <p>A capability is a view of its sink: it is valid while the sink is open.
 */
public interface SinkCapability {
}
