package io.extentflow.engine.sparse;

import java.io.IOException;

/** A sparse stream that breaks the format, with the byte offset in the stream where it does. */
public final class SparseStreamException extends IOException {

    private final long streamOffset;

    /**
     * @param streamOffset offset in the stream of the frame at fault
     * @param frame        the frame's header text, or null when there is none
     * @param problem      what is wrong
     */
    public SparseStreamException(long streamOffset, String frame, String problem) {
        super("sparse stream: " + problem + " at stream offset " + streamOffset
                + (frame == null ? "" : " (frame '" + printable(frame) + "')"));
        this.streamOffset = streamOffset;
    }

    private static String printable(String frame) {
        StringBuilder sb = new StringBuilder();
        for (char c : frame.toCharArray()) {
            if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c < 0x20 || c > 0x7e) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Offset in the stream of the frame at fault. */
    public long streamOffset() {
        return streamOffset;
    }
}
