package io.extentflow.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import java.util.List;

/**
 * The flags of the endpoint options a command offers: one {@code --name} per {@link EndpointOption}
 * the providers on the class path declare (a flag for on/off options, a valued option otherwise), its
 * help text the option's description. The CLI names no option: a new kind of endpoint brings its own.
 */
final class EndpointFlags {

    private final List<EndpointOption<?>> offered;
    private EndpointOptions options = EndpointOptions.defaults();

    private EndpointFlags(List<EndpointOption<?>> offered) {
        this.offered = offered;
    }

    /** The options of the kinds of endpoint a command reads ({@code info}, {@code map}, {@code checksum}). */
    static EndpointFlags forReading() {
        return new EndpointFlags(Endpoints.sourceOptions());
    }

    /** The options of both ends of a copy. */
    static EndpointFlags forCopying() {
        return new EndpointFlags(Endpoints.options());
    }

    /** Adds the flags to {@code command}. */
    void define(CommandSpec command) {
        for (EndpointOption<?> option : offered) {
            String flag = "--" + option.name();
            if (option.isFlag()) {
                command.flag(flag, option.description(), () -> set(flag, option, "true"));
            } else if (option.implicitValue() != null) {
                command.optionalValueOption(flag, option.valueLabel(), option.description(), option.implicitValue(),
                        v -> set(flag, option, v));
            } else {
                // The default is shown in help, not handed to the parser: options() then holds only what
                // the command line gave, so that a copy can refuse an option its ends do not take
                // (an option's default applies by itself when it is not set).
                Object byDefault = option.defaultValue();
                command.option(flag, option.valueLabel(), option.description()
                        + (byDefault == null ? "" : " Default: " + byDefault + "."), null, v -> set(flag, option, v));
            }
        }
    }

    private void set(String flag, EndpointOption<?> option, String text) {
        try {
            options = options.withParsed(option, text);
        } catch (NumberFormatException e) {
            throw e; // the parser says "'x' is not a number" itself
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + " " + e.getMessage(), e);
        }
    }

    /** The options the command line gave, and only those (the rest have their defaults). */
    EndpointOptions options() {
        return options;
    }
}
