package io.extentflow.engine.sparse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Reads a sparse stream front to back from a channel: frame headers, data payloads and their
 * terminators, checking the format as it goes. Blocking and not thread-safe: one owner calls it,
 * on a thread allowed to block.
 *
 * <p>Frames must be in ascending order and must not overlap; a gap between frames reads as zeros.
 * A data frame's payload is read with {@link #readPayload} before the next header.
 */
public final class SparseStreamReader {

    private final ReadableByteChannel in;
    private final ByteBuffer header = ByteBuffer.allocate(SparseFrame.HEADER_SIZE);
    private final ByteBuffer terminator = ByteBuffer.allocate(SparseFrame.TERMINATOR_SIZE);
    private long streamOffset;
    private long imageEnd;
    private SparseFrame current;
    private long payloadLeft;
    private long frameOffset;
    private boolean stopped;

    public SparseStreamReader(ReadableByteChannel in) {
        this.in = in;
    }

    /** Bytes of stream consumed so far. */
    public long streamOffset() {
        return streamOffset;
    }

    /** True once the stop frame was read. */
    public boolean stopped() {
        return stopped;
    }

    /** Bytes of the current data frame's payload not yet read. */
    public long payloadLeft() {
        return payloadLeft;
    }

    /** Image offset of the next payload byte. */
    public long payloadOffset() {
        return current == null ? imageEnd : current.end() - payloadLeft;
    }

    /**
     * The next frame. For a data frame, its payload must be read with {@link #readPayload} before
     * the next call. After the stop frame, the stream is over.
     */
    public SparseFrame next() throws IOException {
        if (stopped) {
            throw new SparseStreamException(streamOffset, null, "read past the stop frame");
        }
        if (payloadLeft > 0) {
            throw new IllegalStateException("payload of the frame at stream offset " + frameOffset + " not read");
        }
        frameOffset = streamOffset;
        header.clear();
        if (!fill(header)) {
            throw new SparseStreamException(frameOffset, null, header.position() == 0
                    ? "stream ended without a stop frame" : "stream truncated inside a frame header");
        }
        header.flip();
        SparseFrame f = SparseFrame.parse(header, frameOffset);
        check(f, frameOffset, imageEnd);
        if (f.kind() == SparseFrame.Kind.STOP) {
            stopped = true;
            current = null;
            return f;
        }
        imageEnd = f.end();
        current = f;
        payloadLeft = f.kind() == SparseFrame.Kind.DATA ? f.length() : 0;
        return f;
    }

    /**
     * Checks a frame against the format and the end of the previous frame.
     *
     * @param streamOffset where the frame starts in the stream
     * @param previousEnd  image offset just past the previous frame
     */
    public static void check(SparseFrame f, long streamOffset, long previousEnd) throws SparseStreamException {
        if (f.kind() == SparseFrame.Kind.STOP) {
            if (f.start() != 0 || f.length() != 0) {
                throw new SparseStreamException(streamOffset, f.text(), "stop frame with a range");
            }
            return;
        }
        if (f.length() == 0) {
            throw new SparseStreamException(streamOffset, f.text(), "empty frame");
        }
        if (f.start() < previousEnd) {
            throw new SparseStreamException(streamOffset, f.text(),
                    "frame out of order or overlapping (the previous frame ended at image offset " + previousEnd + ")");
        }
    }

    /** Reads {@code target.remaining()} bytes of the current data frame's payload (and its terminator at the end). */
    public void readPayload(ByteBuffer target) throws IOException {
        if (target.remaining() > payloadLeft) {
            throw new IllegalStateException("asked for " + target.remaining() + " payload bytes, " + payloadLeft
                    + " left in the frame");
        }
        payloadLeft -= target.remaining();
        if (!fill(target)) {
            throw new SparseStreamException(frameOffset, null, "stream truncated inside a data frame's payload");
        }
        if (payloadLeft == 0) {
            terminator.clear();
            if (!fill(terminator) || terminator.get(0) != '\r' || terminator.get(1) != '\n') {
                throw new SparseStreamException(streamOffset - terminator.position(), null,
                        "data frame at stream offset " + frameOffset + " is missing its \\r\\n terminator");
            }
        }
    }

    /** Fills {@code b} from the stream; false if the stream ends first. */
    private boolean fill(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            int n = in.read(b);
            if (n < 0) {
                return false;
            }
            streamOffset += n;
        }
        return true;
    }
}
