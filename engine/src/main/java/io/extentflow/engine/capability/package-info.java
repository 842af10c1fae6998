/**
 * What a source can report beyond its extents, asked for by type
 * ({@link io.extentflow.engine.ImageSource#capability(Class)}) rather than found by testing the
 * source's class: host offsets, allocation status, allocation depth.
 */
package io.extentflow.engine.capability;
