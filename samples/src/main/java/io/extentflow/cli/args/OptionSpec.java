package io.extentflow.cli.args;

import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One option of a command: {@code --name VALUE}, {@code --name=VALUE}, a flag {@code --name}, or a
 * negatable flag {@code --[no-]name}.
 *
 * @param names        the option's names, longest last ({@code -h}, {@code --help})
 * @param label        what the value is called in help ({@code SIZE}); {@code null} for a flag
 * @param description  one paragraph of help
 * @param defaultValue the value used when the option is not given (converted like a given one), or {@code null}
 * @param required     whether the command line must give it
 * @param negatable    a flag that also has a {@code --no-} form
 * @param setter       receives the value: the text of a valued option, {@code "true"}/{@code "false"} for a flag
 * @param implicitValue for a valued option that may be given without its value ({@code --compress} or
 *                     {@code --compress=zlib}), the value it then has; {@code null} when a value is needed
 */
public record OptionSpec(List<String> names, String label, String description, String defaultValue,
        boolean required, boolean negatable, Consumer<String> setter, String implicitValue) {

    /** An option whose value, if it takes one, must be given. */
    public OptionSpec(List<String> names, String label, String description, String defaultValue,
            boolean required, boolean negatable, Consumer<String> setter) {
        this(names, label, description, defaultValue, required, negatable, setter, null);
    }

    /** Checks the parts. */
    public OptionSpec {
        names = List.copyOf(names);
        if (names.isEmpty() || names.stream().anyMatch(n -> !n.startsWith("-"))) {
            throw new IllegalArgumentException("option names start with '-': " + names);
        }
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(setter, "setter");
        if (implicitValue != null && label == null) {
            throw new IllegalArgumentException("a flag has no value to leave out: " + names);
        }
    }

    /** The longest name, as messages and settings spell it ({@code --request-size}). */
    public String longName() {
        return names.getLast();
    }

    /** The long name without its dashes: the key of settings files ({@code request-size}). */
    public String key() {
        return longName().replaceFirst("^-+", "");
    }

    /** True when the option takes no value. */
    public boolean isFlag() {
        return label == null;
    }

    /** True when {@code word} (an argument without any {@code =VALUE}) names this option. */
    boolean matches(String word) {
        return names.contains(word) || (negatable && word.equals(negated()));
    }

    /** {@code --no-progress} for {@code --progress}. */
    String negated() {
        return "--no-" + longName().substring(2);
    }
}
