package io.extentflow.cli;

/**
 * Fixed-point numbers for output, by arithmetic. {@code String.format("%.3f")} was the last thing a
 * copy did and not a cheap one: its first use loads the locale data and the number formatting
 * classes, some 15 ms of every command's exit (perf/README.md, "Start-up").
 */
final class Decimals {

    private static final long[] POWERS = {1, 10, 100, 1000, 10_000, 100_000, 1_000_000};

    private Decimals() {
    }

    /**
     * {@code value} rounded half up to {@code places} decimals (0 to 6), as {@code %.Nf} prints a
     * finite, non-negative value below 2^53 / 10^places: {@code fixed(1.5, 0)} is {@code "2"},
     * {@code fixed(0.25, 3)} is {@code "0.250"}.
     */
    static String fixed(double value, int places) {
        if (!(value >= 0) || value >= 0x1p53 / POWERS[places]) {
            throw new IllegalArgumentException("not a printable size or time: " + value);
        }
        long scaled = Math.round(value * POWERS[places]);
        if (places == 0) {
            return Long.toString(scaled);
        }
        String fraction = Long.toString(POWERS[places] + scaled % POWERS[places]).substring(1);
        return (scaled / POWERS[places]) + "." + fraction;
    }
}
