package io.extentflow.engine.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SparseFrameTest {

    static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void headersAreFortyBytesOfLowerCaseHex() {
        String h = StandardCharsets.US_ASCII.decode(new SparseFrame(SparseFrame.Kind.DATA, 0xABCDEF, 0x100000)
                .header()).toString();
        assertEquals("data 0000000000abcdef 0000000000100000\r\n", h);
        assertEquals("stop 0000000000000000 0000000000000000\r\n",
                StandardCharsets.US_ASCII.decode(SparseFrame.STOP.header()).toString());
    }

    @Test
    void parsesWhatItWrites() throws Exception {
        for (SparseFrame f : new SparseFrame[] {new SparseFrame(SparseFrame.Kind.ZERO, 1L << 40, 12345),
                new SparseFrame(SparseFrame.Kind.DATA, 0, 1), SparseFrame.STOP}) {
            assertEquals(f, SparseFrame.parse(f.header(), 0));
        }
    }

    @Test
    void badHeadersNameTheStreamOffsetAndTheFrame() {
        SparseStreamException e = assertThrows(SparseStreamException.class,
                () -> SparseFrame.parse(ascii("data 00000000000000g0 0000000000000010\r\n"), 4096));
        assertTrue(e.getMessage().contains("bad hex digit 'g'") && e.getMessage().contains("stream offset 4096")
                && e.getMessage().contains("data 00000000000000g0"), e.getMessage());
        e = assertThrows(SparseStreamException.class,
                () -> SparseFrame.parse(ascii("DATA 0000000000000000 0000000000000010\r\n"), 0));
        assertTrue(e.getMessage().contains("unknown frame kind"), e.getMessage());
        e = assertThrows(SparseStreamException.class,
                () -> SparseFrame.parse(ascii("data 0000000000000000 00000000000000A0\r\n"), 0));
        assertTrue(e.getMessage().contains("bad hex digit 'A'"), e.getMessage());
        e = assertThrows(SparseStreamException.class,
                () -> SparseFrame.parse(ascii("data 0000000000000000 0000000000000010\n\n"), 0));
        assertTrue(e.getMessage().contains("malformed frame header") && e.getMessage().contains("\\n\\n"),
                e.getMessage());
        e = assertThrows(SparseStreamException.class,
                () -> SparseFrame.parse(ascii("zero ffffffffffffffff 0000000000000010\r\n"), 0));
        assertTrue(e.getMessage().contains("overflows"), e.getMessage());
    }
}
