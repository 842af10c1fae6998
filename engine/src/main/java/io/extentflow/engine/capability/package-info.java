/**
 * What a source can report beyond its extents, asked for by type
 * ({@link io.extentflow.engine.ImageSource#capability(Class)}) rather than found by testing the
 * source's class: host offsets, allocation status, allocation depth, the local file holding its
 * bytes. Likewise what a sink can do beyond writes and zero requests
 * ({@link io.extentflow.engine.ImageSink#sinkCapability(Class)}): an offloaded copy.
 */
package io.extentflow.engine.capability;
