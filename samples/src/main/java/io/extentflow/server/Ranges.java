package io.extentflow.server;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The two range headers of the data API, parsed as ovirt-imageio parses them. */
final class Ranges {

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+|\\*)/(\\d+|\\*)");

    private Ranges() {
    }

    /**
     * A {@code Range: bytes=first-[last]} request.
     *
     * @param first first byte
     * @param last  last byte (inclusive), or -1 for "to the end"
     */
    record ByteRange(long first, long last) {
    }

    /**
     * Parses {@code Range}; only one range of the {@code bytes=a-b} or {@code bytes=a-} forms is
     * served. A range of another form is a 416, as in ovirt-imageio; a position that is not a
     * non-negative 64-bit number (e.g. 2^63) is malformed input, a 400.
     */
    static ByteRange range(String header) {
        Matcher m = RANGE.matcher(header.trim());
        if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
            throw new ApiError(416, "Cannot satisfy range '" + header + "'", null, false);
        }
        if (m.group(1).isEmpty()) {
            throw new ApiError(416, "suffix-byte-range-spec not supported yet", null, false);
        }
        long first = parse(m.group(1), header);
        long last = m.group(2).isEmpty() ? -1 : parse(m.group(2), header);
        if (last >= 0 && last < first) {
            throw new ApiError(416, "Cannot satisfy range '" + header + "'", null, false);
        }
        return new ByteRange(first, last);
    }

    /** The first byte of {@code Content-Range: bytes a-b/total} (or {@code a-* /*}); the length comes from Content-Length. */
    static long contentRangeStart(String header) {
        Matcher m = CONTENT_RANGE.matcher(header.trim());
        if (!m.matches()) {
            throw ApiError.badRequest("Invalid Content-Range '" + header + "'").closing();
        }
        try {
            return Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("Invalid Content-Range '" + header + "': " + m.group(1)
                    + " is not a 64-bit byte position").closing();
        }
    }

    /** {@code digits} (only ASCII digits) as a long; past 2^63-1 the header is malformed: 400. */
    private static long parse(String digits, String header) {
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("Invalid Range '" + header + "': " + digits + " is not a 64-bit byte position");
        }
    }
}
