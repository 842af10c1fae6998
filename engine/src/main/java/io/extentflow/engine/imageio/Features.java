package io.extentflow.engine.imageio;

/** Names in the {@code features} list of an {@code OPTIONS /images/<id>} reply. */
public final class Features {

    /** {@code GET /images/<id>/extents} is served. */
    public static final String EXTENTS = "extents";
    /** {@code PATCH {"op":"zero"}} is served. */
    public static final String ZERO = "zero";
    /** {@code PATCH {"op":"flush"}} and {@code PUT ...?flush=n} are served. */
    public static final String FLUSH = "flush";
    /** {@code GET /images/<id>/checksum} is served. */
    public static final String CHECKSUM = "checksum";
    /**
     * Our extension: {@code GET /images/<id>/extents?start=S&length=L} answers for that range only
     * (see the package documentation).
     */
    public static final String EXTENTS_RANGE = "extents-range";

    /**
     * Our extension: {@code GET /images/<id>?format=sparse} answers the whole image as one sparse
     * stream, and {@code PUT /images/<id>?format=sparse} takes one (see docs/sparse-stream.md).
     */
    public static final String SPARSE_STREAM = "sparse-stream";

    private Features() {
    }
}
