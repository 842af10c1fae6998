package io.extentflow.engine.copy;

import io.extentflow.engine.Extent;
import java.util.List;

/**
 * One request of a copy: a range of the image and what to do with it.
 *
 * @param kind   data to read and write, zeros to write as a zero request, or a range to skip
 * @param offset where the range starts in the image
 * @param length its length in bytes
 * @param pieces for a data request gathered from several small extents ({@link RequestPlanner}),
 *               the source's extents it covers, in order (data, and the zeros and holes between
 *               them); null for a request of one kind throughout
 */
record Request(Kind kind, long offset, long length, List<Extent> pieces) {

    /** What a request does. */
    enum Kind { DATA, ZERO, SKIP }

    Request(Kind kind, long offset, long length) {
        this(kind, offset, length, null);
    }

    long end() {
        return offset + length;
    }

    /** True for a data request gathered from several extents. */
    boolean gathered() {
        return pieces != null;
    }
}
