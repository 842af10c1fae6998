/**
 * What an endpoint offers or asks for beyond reads and writes, found by type rather than by testing
 * the endpoint's class. Sources report more than their extents
 * ({@link io.extentflow.engine.ImageSource#capability(Class)}): host offsets, allocation status,
 * allocation depth, the local file holding their bytes. Sinks offer or ask for more than requests
 * ({@link io.extentflow.engine.ImageSink#sinkCapability(Class)}): an offloaded copy, the whole extent
 * list up front.
 */
package io.extentflow.engine.capability;
