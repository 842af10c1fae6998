package io.extentflow.engine.endpoint;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A typed key for one setting of how endpoints are opened, like Reactor Netty's {@code ChannelOption<T>}:
 * each kind of endpoint declares the options it understands in its own package and lists them in its
 * provider ({@link SourceProvider#options()}, {@link SinkProvider#options()}); values travel in an
 * {@link EndpointOptions}. An option that several kinds honour is one object that they all list.
 *
 * <p>The key carries what a front end needs to offer it without knowing it at compile time: a name
 * (the command line's {@code --name}), a JSON name (the daemon's {@code snake_case} key), the value
 * type, a default, a one-line description, and a parser from text. Keys compare by identity.
 *
 * @param <T> the value type: {@link Boolean} for flags, {@link Integer}, {@link Path} or {@link String} for values
 */
public final class EndpointOption<T> {

    private final String name;
    private final String jsonName;
    private final Class<T> type;
    private final T defaultValue;
    private final String valueLabel;
    private final String expected;
    private final String description;
    private final Function<String, T> parser;
    private final Consumer<T> check;
    private final String implicitValue;

    private EndpointOption(String name, String jsonName, Class<T> type, T defaultValue, String valueLabel,
            String expected, String description, Function<String, T> parser, Consumer<T> check) {
        this(name, jsonName, type, defaultValue, valueLabel, expected, description, parser, check, null);
    }

    private EndpointOption(String name, String jsonName, Class<T> type, T defaultValue, String valueLabel,
            String expected, String description, Function<String, T> parser, Consumer<T> check,
            String implicitValue) {
        this.name = requireName(name);
        this.jsonName = requireName(jsonName);
        this.type = Objects.requireNonNull(type, "type");
        this.defaultValue = defaultValue;
        this.valueLabel = valueLabel;
        this.expected = expected;
        this.description = Objects.requireNonNull(description, "description");
        this.parser = parser;
        this.check = check;
        this.implicitValue = implicitValue;
    }

    /** An on/off option, off by default; its text form is {@code true} or {@code false}. */
    public static EndpointOption<Boolean> flag(String name, String description) {
        return new EndpointOption<>(name, snakeCase(name), Boolean.class, false, null, "true or false", description,
                EndpointOption::parseBoolean, v -> { });
    }

    /**
     * A whole number of at least {@code minimum}.
     *
     * @param valueLabel   what the value is, for help ({@code N})
     * @param defaultValue the value when none is given, or null when each kind of endpoint chooses
     */
    public static EndpointOption<Integer> integer(String name, String valueLabel, int minimum, Integer defaultValue,
            String description) {
        Consumer<Integer> check = v -> {
            if (v < minimum) {
                throw new IllegalArgumentException("must be at least " + minimum + ", got " + v);
            }
        };
        if (defaultValue != null) {
            check.accept(defaultValue);
        }
        String expected = minimum == 1 ? "a positive integer" : minimum == 0 ? "a non-negative integer"
                : "an integer of at least " + minimum;
        // Integer.parseInt's NumberFormatException is left as it is: front ends say "not a number"
        return new EndpointOption<>(name, snakeCase(name), Integer.class, defaultValue, valueLabel, expected,
                description, text -> Integer.parseInt(text.strip()), check);
    }

    /** A file path, none by default. */
    public static EndpointOption<Path> path(String name, String valueLabel, String description) {
        return new EndpointOption<>(name, snakeCase(name), Path.class, null, valueLabel, "a path", description,
                text -> {
                    if (text.isBlank()) {
                        throw new IllegalArgumentException("must be a path, got an empty string");
                    }
                    return Path.of(text);
                }, v -> { });
    }

    /**
     * One word out of {@code choices} (lower case), e.g. a codec's name.
     *
     * @param defaultValue one of the choices, or null when none is chosen unless given
     */
    public static EndpointOption<String> choice(String name, String valueLabel, List<String> choices,
            String defaultValue, String description) {
        List<String> words = List.copyOf(choices);
        String expected = "one of " + String.join(", ", words);
        Consumer<String> check = v -> {
            if (!words.contains(v)) {
                throw new IllegalArgumentException("must be " + expected + ", got '" + v + "'");
            }
        };
        if (defaultValue != null) {
            check.accept(defaultValue);
        }
        return new EndpointOption<>(name, snakeCase(name), String.class, defaultValue, valueLabel, expected,
                description, text -> text.strip().toLowerCase(Locale.ROOT), check);
    }

    /**
     * A value of any type that {@code parser} makes from text: for options whose values only their kind
     * of endpoint knows how to read (a cluster size, a format's name). The parser throws an
     * {@link IllegalArgumentException} saying what is wrong, without naming the option.
     *
     * @param expected what a valid value is, for messages ("a power of two from 4K to 2M")
     */
    public static <T> EndpointOption<T> of(String name, String valueLabel, Class<T> type, T defaultValue,
            String expected, String description, Function<String, T> parser) {
        Objects.requireNonNull(parser, "parser");
        return new EndpointOption<>(name, snakeCase(name), type, defaultValue, valueLabel, expected, description,
                parser, v -> { });
    }

    /**
     * The same option, which may also be given without a value, meaning {@code text} (a command line's
     * {@code --compress} for {@code --compress=zstd}). A value must then be given as {@code --name=VALUE}.
     */
    public EndpointOption<T> withImplicitValue(String text) {
        T value = parser.apply(text);
        check.accept(value);
        return new EndpointOption<>(name, jsonName, type, defaultValue, valueLabel, expected, description, parser,
                check, text);
    }

    /** The text a front end takes when the option is given without a value, or null when a value is needed. */
    public String implicitValue() {
        return implicitValue;
    }

    /** A text value (such as a name), none by default; it must not be blank. */
    public static EndpointOption<String> text(String name, String valueLabel, String description) {
        return new EndpointOption<>(name, snakeCase(name), String.class, null, valueLabel, "a non-empty string",
                description, text -> {
                    if (text.isBlank()) {
                        throw new IllegalArgumentException("must not be empty");
                    }
                    return text;
                }, v -> { });
    }

    /** The same option under another JSON name (for a key whose JSON spelling is not its name in snake case). */
    public EndpointOption<T> withJsonName(String json) {
        return new EndpointOption<>(name, json, type, defaultValue, valueLabel, expected, description, parser, check,
                implicitValue);
    }

    /** The name, in kebab case: the command line's {@code --name}. */
    public String name() {
        return name;
    }

    /** The key in JSON (the daemon's jobs), in snake case. */
    public String jsonName() {
        return jsonName;
    }

    /** The value type. */
    public Class<T> type() {
        return type;
    }

    /** True for on/off options (a command-line flag without a value). */
    public boolean isFlag() {
        return type == Boolean.class;
    }

    /** The value when none is given, or null when each kind of endpoint chooses its own. */
    public T defaultValue() {
        return defaultValue;
    }

    /** What the value is, for help ({@code N}, {@code PEM}); null for flags. */
    public String valueLabel() {
        return valueLabel;
    }

    /** What a valid value is, for messages: "a positive integer", "a path", "true or false". */
    public String expected() {
        return expected;
    }

    /** One line (a sentence or two) on what the option does: the command line's help text. */
    public String description() {
        return description;
    }

    /**
     * The value that {@code text} stands for. A value out of range is an {@link IllegalArgumentException}
     * whose message does not name the option ("must be at least 1, got 0"), for the caller to prefix with
     * the name its user knows; a number that is not one is a {@link NumberFormatException}.
     */
    public T parse(String text) {
        Objects.requireNonNull(text, "text");
        T value = parser.apply(text);
        check.accept(value);
        return value;
    }

    /** {@code value} as this option's type, checked; a wrong type or range is an {@link IllegalArgumentException}. */
    T checked(Object value) {
        if (!type.isInstance(value)) {
            throw new IllegalArgumentException("option " + name + " takes a " + type.getSimpleName() + ", got "
                    + value.getClass().getSimpleName());
        }
        T v = type.cast(value);
        try {
            check.accept(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("option " + name + " " + e.getMessage(), e);
        }
        return v;
    }

    @Override
    public String toString() {
        return name;
    }

    private static Boolean parseBoolean(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("must be true or false, got '" + text + "'");
        };
    }

    private static String snakeCase(String name) {
        return name.replace('-', '_');
    }

    private static String requireName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || !name.chars().allMatch(c -> c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
                || c == '_')) {
            throw new IllegalArgumentException("option names are lower case letters, digits, '-' and '_': '"
                    + name + "'");
        }
        return name;
    }
}
