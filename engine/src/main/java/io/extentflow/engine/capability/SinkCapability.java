package io.extentflow.engine.capability;

/**
 * Something a sink asks of the copy beyond its requests, such as the source's whole extent list
 * before the first byte ({@link ExtentPlan}). The copy asks a sink with
 * {@link io.extentflow.engine.ImageSink#sinkCapability(Class)} instead of testing its type, so a new
 * kind of sink gets what it needs without a case in the copy operator.
 */
public interface SinkCapability {
}
