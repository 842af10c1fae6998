package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SizesTest {

    @Test
    void parsesBinarySuffixes() {
        assertEquals(4096, Sizes.parse("4096"));
        assertEquals(4096, Sizes.parse("4k"));
        assertEquals(4L << 20, Sizes.parse("4M"));
        assertEquals(64L << 20, Sizes.parse("64MiB"));
        assertEquals(1L << 30, Sizes.parse("1G"));
        assertEquals(1L << 30, Sizes.parse("1GB"));
        assertEquals(2L << 40, Sizes.parse("2T"));
        assertEquals(512, Sizes.parse("512b"));
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("M"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("-1"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("4X"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("9E"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("1.5G"));
    }

    @Test
    void printsForPeople() {
        assertEquals("512 B", Sizes.human(512));
        assertEquals("4 KiB", Sizes.human(4096));
        assertEquals("1.5 GiB", Sizes.human(1.5 * (1L << 30)));
        assertEquals("256 MiB", Sizes.human(256L << 20));
        assertEquals("11.9 MiB", Sizes.human(11.9 * (1 << 20)));
        assertEquals("1023 B", Sizes.human(1023));
        assertEquals("1 KiB", Sizes.human(1024));
        assertEquals("1.01 KiB", Sizes.human(1034));
        assertEquals("100 GiB", Sizes.human(99.999 * (1L << 30)));
        assertEquals("8 EiB", Sizes.human(8.0 * (1L << 60)));
    }
}
