package io.extentflow.engine.endpoint;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings for opening endpoints: an immutable map from {@link EndpointOption} keys to values. It names
 * no kind of endpoint: each kind declares its options in its own package and its provider lists them
 * ({@link SourceProvider#options()}, {@link SinkProvider#options()}); a provider reads the options it
 * knows and ignores the rest, so one map serves both ends of a copy. Start from {@link #defaults()}:
 *
 * <pre>{@code
 * EndpointOptions options = EndpointOptions.defaults()
 *         .with(NetworkOptions.CONNECTIONS, 2)          // a key known at compile time
 *         .withParsed(Endpoints.option(name), text);    // or one found by name, as the CLI and daemon do
 * }</pre>
 */
public final class EndpointOptions {

    private static final EndpointOptions DEFAULTS = new EndpointOptions(Map.of());

    /** The values given, by key; keys compare by identity (each option is one object). */
    private final Map<EndpointOption<?>, Object> values;

    private EndpointOptions(Map<EndpointOption<?>, Object> values) {
        this.values = values;
    }

    /** No option set: every option has its default. */
    public static EndpointOptions defaults() {
        return DEFAULTS;
    }

    /** The value of {@code option}: the one set, else its {@link EndpointOption#defaultValue()} (which may be null). */
    public <T> T get(EndpointOption<T> option) {
        Object v = values.get(Objects.requireNonNull(option, "option"));
        return v == null ? option.defaultValue() : option.type().cast(v);
    }

    /** The value of {@code option}, or {@code kindDefault} when neither set nor defaulted by the option itself. */
    public <T> T getOrElse(EndpointOption<T> option, T kindDefault) {
        T v = get(option);
        return v == null ? kindDefault : v;
    }

    /** The value set for {@code option}, if one was (its default does not count). */
    public <T> Optional<T> find(EndpointOption<T> option) {
        return Optional.ofNullable(values.get(Objects.requireNonNull(option, "option"))).map(option.type()::cast);
    }

    /**
     * These options with {@code option} set to {@code value}, or back to its default when {@code value}
     * is null. A value out of the option's range is an {@link IllegalArgumentException}.
     */
    public <T> EndpointOptions with(EndpointOption<T> option, T value) {
        Objects.requireNonNull(option, "option");
        Map<EndpointOption<?>, Object> copy = new LinkedHashMap<>(values);
        if (value == null) {
            copy.remove(option);
        } else {
            copy.put(option, option.checked(value));
        }
        return new EndpointOptions(Collections.unmodifiableMap(copy));
    }

    /**
     * These options with {@code option} set to what {@code text} stands for ({@link EndpointOption#parse}):
     * for front ends that hold options they do not know at compile time.
     */
    public <T> EndpointOptions withParsed(EndpointOption<T> option, String text) {
        return with(option, option.parse(text));
    }

    /** The options set, by key, in the order they were first set. */
    public Map<EndpointOption<?>, Object> asMap() {
        return values;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EndpointOptions other && values.equals(other.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("EndpointOptions{");
        values.forEach((k, v) -> s.append(s.length() > "EndpointOptions{".length() ? ", " : "")
                .append(k.name()).append('=').append(v));
        return s.append('}').toString();
    }
}
