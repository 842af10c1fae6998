package io.extentflow.engine.endpoint;

/**
 * The image format a target is written in, beside the option type rather than in one kind's package:
 * several kinds of target write the same format (raw into a file, an NBD export or an imageio
 * ticket), and one kind may write several. The core knows no format's name: each sink provider says
 * which it writes ({@link SinkProvider#formats()}) and {@link Endpoints#sink} asks the first provider
 * that takes the address in that format.
 */
public final class FormatOptions {

    /**
     * The format to write, the word of {@code qemu-img convert -O} ({@code raw}, {@code qcow2}, ...),
     * whatever the target's name says. Without a value each kind of target chooses from the address
     * (a file named {@code *.qcow2} is written as qcow2, other files raw).
     */
    public static final EndpointOption<String> OUTPUT_FORMAT = EndpointOption.of("output-format", "FORMAT",
            String.class, null, "a format name such as raw or qcow2",
            "The image format to write (the word of qemu-img convert -O: raw, qcow2), whatever the target's "
                    + "name says. By default a file named *.qcow2 is written as qcow2 and every other target raw.",
            FormatOptions::word);

    private FormatOptions() {
    }

    private static String word(String text) {
        String w = text.strip().toLowerCase(java.util.Locale.ROOT);
        if (w.isEmpty() || !w.chars().allMatch(c -> c >= 'a' && c <= 'z' || c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("must be a format name such as raw or qcow2, got '" + text + "'");
        }
        return w;
    }
}
