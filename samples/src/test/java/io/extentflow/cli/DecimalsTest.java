package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DecimalsTest {

    @Test
    void printsWhatFormatPrints() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 20_000; i++) {
            // sizes from bytes to exbibytes, times from microseconds to days
            double v = Math.pow(10, random.nextDouble(-6, 7)) * random.nextDouble();
            int places = random.nextInt(4);
            String expected = String.format(Locale.ROOT, "%." + places + "f", v);
            String got = Decimals.fixed(v, places);
            if (!expected.equals(got)) {
                // only a value a hair from a tie may round the other way: the scaled double
                // (v * 10^places) is itself rounded
                double scaled = v * Math.pow(10, places);
                assertEquals(0.5, scaled - Math.floor(scaled), 1e-6, v + " to " + places + " places: " + got
                        + ", String.format: " + expected);
            }
        }
    }

    @Test
    void roundsHalfUpAndPadsTheFraction() {
        assertEquals("2", Decimals.fixed(1.5, 0));
        assertEquals("0", Decimals.fixed(0, 0));
        assertEquals("0.250", Decimals.fixed(0.25, 3));
        assertEquals("0.005", Decimals.fixed(0.005, 3));
        assertEquals("10.00", Decimals.fixed(9.999, 2));
        assertEquals("8.233", Decimals.fixed(8.2334, 3));
        assertEquals("1023", Decimals.fixed(1023, 0));
    }

    @Test
    void refusesWhatItCannotPrint() {
        assertThrows(IllegalArgumentException.class, () -> Decimals.fixed(-1, 2));
        assertThrows(IllegalArgumentException.class, () -> Decimals.fixed(Double.NaN, 2));
        assertThrows(IllegalArgumentException.class, () -> Decimals.fixed(Double.POSITIVE_INFINITY, 0));
        assertThrows(IllegalArgumentException.class, () -> Decimals.fixed(1e300, 0));
    }
}
