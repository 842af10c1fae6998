package io.extentflow.sources.qcow2;

/**
 * A guest range resolved through a backing chain: the layer that answered and its status there.
 *
 * @param depth 0 for the top image, 1 for its backing file, ...
 * @param run   the status in that layer; {@link LayerRun.Kind#UNALLOCATED} only where no layer
 *              allocates the range (or, for top-layer-only views, where the top does not)
 */
record ChainRun(int depth, LayerRun run) {
}
