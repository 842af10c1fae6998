package io.extentflow.cli;

import java.util.Locale;

/**
 * Byte sizes on the command line and in output. Suffixes are binary, as in qemu-img:
 * {@code 4096}, {@code 4k}, {@code 4M}, {@code 64MiB}, {@code 1G}, {@code 2T}.
 */
final class Sizes {

    private static final String UNITS = "KMGTPE";

    /** Parses a size such as {@code 64MiB}; a bad one is an {@link IllegalArgumentException} saying why. */
    static long parse(String value) {
        String s = value.strip();
        int i = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
        }
        if (i == 0) {
            throw new IllegalArgumentException("'" + value + "' is not a size (examples: 4096, 4M, 64MiB, 1G)");
        }
        String unit = s.substring(i).toUpperCase(Locale.ROOT);
        int shift;
        if (unit.isEmpty() || unit.equals("B")) {
            shift = 0;
        } else {
            int u = UNITS.indexOf(unit.charAt(0));
            String rest = unit.substring(1);
            if (u < 0 || !(rest.isEmpty() || rest.equals("B") || rest.equals("IB"))) {
                throw new IllegalArgumentException("'" + value + "' has an unknown unit (use K, M, G, T, P or E, "
                        + "optionally followed by iB)");
            }
            shift = 10 * (u + 1);
        }
        try {
            long n = Long.parseLong(s.substring(0, i));
            if (n > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + value + "' is too large");
        }
    }

    /** A size for people: {@code 512 B}, {@code 64 KiB}, {@code 1.5 GiB}. */
    static String human(double bytes) {
        if (bytes < 1024) {
            return Decimals.fixed(bytes, 0) + " B";
        }
        int u = -1;
        double v = bytes;
        while (v >= 1024 && u < UNITS.length() - 1) {
            v /= 1024;
            u++;
        }
        String n = Decimals.fixed(v, v >= 100 ? 0 : v >= 10 ? 1 : 2);
        if (n.indexOf('.') >= 0) {
            int end = n.length();
            while (n.charAt(end - 1) == '0') {
                end--;
            }
            if (n.charAt(end - 1) == '.') {
                end--;
            }
            n = n.substring(0, end);
        }
        return n + " " + UNITS.charAt(u) + "iB";
    }
}
