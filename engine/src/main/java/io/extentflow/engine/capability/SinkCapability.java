package io.extentflow.engine.capability;

/**
 * Something a sink can do beyond writes and zero requests, or asks of the copy beyond its requests:
 * copying data from a source without the copy's buffers ({@link OffloadedCopy}), the source's whole
 * extent list before the first byte ({@link ExtentPlan}), to be told that no flush will follow
 * ({@link Unflushed}). The copy asks a sink with
 * {@link io.extentflow.engine.ImageSink#sinkCapability(Class)} instead of testing its type, so a new
 * kind of sink offers or gets what it needs without a case in the copy operator.
 *
 * <p>A capability is a view of its sink: it is valid while the sink is open.
 */
public interface SinkCapability {
}
