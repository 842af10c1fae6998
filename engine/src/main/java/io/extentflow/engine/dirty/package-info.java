/**
 * Incremental copies: dirty extents ({@link io.extentflow.engine.dirty.DirtyExtent}, imageio's
 * {@code context=dirty} shape) merged from a source's allocation and its dirty bitmap
 * ({@link io.extentflow.engine.capability.DirtyExtents}), and the source view that makes a copy move
 * only what changed ({@link io.extentflow.engine.dirty.IncrementalSource}).
 */
package io.extentflow.engine.dirty;
