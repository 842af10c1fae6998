package io.extentflow.engine.extent;

import io.extentflow.engine.Extent;

/**
 * The ovirt-imageio JSON spelling of an extent: {@code {"start":0,"length":65536,"zero":false,"hole":false}}.
 * Written by hand (not by a JSON mapper) so the field order and spelling never drift.
 */
public final class ExtentJson {

    private ExtentJson() {
    }

    /** One extent as a JSON object. */
    public static String format(Extent e) {
        return "{\"start\":" + e.start() + ",\"length\":" + e.length() + ",\"zero\":" + e.zero()
                + ",\"hole\":" + e.hole() + "}";
    }
}
