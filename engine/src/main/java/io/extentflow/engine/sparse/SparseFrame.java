package io.extentflow.engine.sparse;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One frame header of a sparse stream, the framing of ovirt-imageio's {@code examples/sparse-stream}:
 * <pre>
 * data &lt;start&gt; &lt;length&gt;\r\n  followed by length bytes and \r\n
 * zero &lt;start&gt; &lt;length&gt;\r\n
 * stop 0000000000000000 0000000000000000\r\n
 * </pre>
 * {@code start} and {@code length} are 16 lower-case hex digits, so every header is
 * {@value #HEADER_SIZE} bytes. See {@code docs/sparse-stream.md}.
 *
 * @param kind   what follows
 * @param start  image offset of the frame
 * @param length bytes of image the frame covers
 */
public record SparseFrame(Kind kind, long start, long length) {

    /** Bytes of every header: 4 + 1 + 16 + 1 + 16 + 2. */
    public static final int HEADER_SIZE = 40;
    /** Bytes after a data frame's payload. */
    public static final int TERMINATOR_SIZE = 2;

    /** The frame kinds. */
    public enum Kind {
        DATA("data"), ZERO("zero"), STOP("stop");

        private final String word;

        Kind(String word) {
            this.word = word;
        }

        /** The four ASCII letters of the kind. */
        public String word() {
            return word;
        }
    }

    public SparseFrame {
        if (start < 0 || length < 0) {
            throw new IllegalArgumentException("negative frame start or length");
        }
    }

    /** The stop frame that ends every stream. */
    public static final SparseFrame STOP = new SparseFrame(Kind.STOP, 0, 0);

    /** Offset just past the frame's range. */
    public long end() {
        return start + length;
    }

    private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    /** Writes the header's {@value #HEADER_SIZE} bytes into {@code out}. */
    public void writeHeader(ByteBuffer out) {
        // by hand: this runs once per frame, and String.format cost more than the rest of the framing
        out.put(kind.word().getBytes(StandardCharsets.US_ASCII)).put((byte) ' ');
        putHex(out, start);
        out.put((byte) ' ');
        putHex(out, length);
        out.put((byte) '\r').put((byte) '\n');
    }

    private static void putHex(ByteBuffer out, long value) {
        for (int shift = 60; shift >= 0; shift -= 4) {
            out.put(HEX_DIGITS[(int) (value >>> shift) & 0xf]);
        }
    }

    /** The header as text, for messages. */
    public String text() {
        return new String(header().array(), StandardCharsets.US_ASCII);
    }

    /** The header as a new buffer ready to be written. */
    public ByteBuffer header() {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE);
        writeHeader(b);
        return b.flip();
    }

    /**
     * Parses a header from the {@value #HEADER_SIZE} bytes at {@code in}'s position.
     *
     * @param streamOffset where the header starts in the stream, for the error message
     */
    public static SparseFrame parse(ByteBuffer in, long streamOffset) throws SparseStreamException {
        byte[] b = new byte[HEADER_SIZE];
        in.get(b);
        String text = new String(b, StandardCharsets.ISO_8859_1);
        if (b[4] != ' ' || b[21] != ' ' || b[38] != '\r' || b[39] != '\n') {
            throw new SparseStreamException(streamOffset, text, "malformed frame header");
        }
        Kind kind = switch (text.substring(0, 4)) {
            case "data" -> Kind.DATA;
            case "zero" -> Kind.ZERO;
            case "stop" -> Kind.STOP;
            default -> throw new SparseStreamException(streamOffset, text, "unknown frame kind");
        };
        long start = hex(b, 5, streamOffset, text);
        long length = hex(b, 22, streamOffset, text);
        if (start < 0 || length < 0 || start > Long.MAX_VALUE - length) {
            throw new SparseStreamException(streamOffset, text, "frame range overflows");
        }
        return new SparseFrame(kind, start, length);
    }

    private static long hex(byte[] b, int from, long streamOffset, String text) throws SparseStreamException {
        long v = 0;
        for (int i = from; i < from + 16; i++) {
            int d = Character.digit(b[i], 16);
            if (d < 0 || (b[i] >= 'A' && b[i] <= 'F')) {
                throw new SparseStreamException(streamOffset, text, "bad hex digit '" + (char) b[i] + "'");
            }
            v = (v << 4) | d;
        }
        return v;
    }
}
