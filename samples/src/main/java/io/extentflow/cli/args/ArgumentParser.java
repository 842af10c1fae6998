package io.extentflow.cli.args;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads a command line against a {@link CommandSpec} tree: finds the subcommand, hands each option
 * and parameter to its setter, fills in settings and defaults, and rejects what does not fit with a
 * {@link UsageException} that says what was wrong.
 *
 * <p>Accepted forms: {@code --name VALUE}, {@code --name=VALUE}, flags, {@code --name} alone for an
 * option whose value may be left out, {@code --no-name} for
 * negatable flags, {@code --} before parameters that start with a dash. A lone {@code -} is a
 * parameter (standard input or output). An option may be given once.
 */
public final class ArgumentParser {

    /** What the command line asks for. */
    public enum Request {
        /** Run the command's action. */
        RUN,
        /** Print the command's help ({@code --help}). */
        HELP,
        /** Print the version ({@code --version}). */
        VERSION
    }

    /**
     * The parsed command line.
     *
     * @param command the command named last (the one to run or to explain)
     * @param request what to do with it
     */
    public record Invocation(CommandSpec command, Request request) {
    }

    /** The option name that asks for the version, if a command declares it. */
    public static final String VERSION_OPTION = "--version";

    private ArgumentParser() {
    }

    /**
     * Parses {@code args} for {@code root}. On {@link Request#RUN} every setter has run (given values,
     * then settings and defaults of the options not given); on help and version requests none has.
     *
     * @throws UsageException when the command line does not fit the specification
     */
    public static Invocation parse(CommandSpec root, List<String> args) {
        CommandSpec command = root;
        // by identity: each option is one object, and a record's generated hashCode is linked at its
        // first call (some 15 ms of every start-up)
        Map<OptionSpec, String> given = new IdentityHashMap<>();
        List<String> words = new ArrayList<>();
        Request request = Request.RUN;
        boolean onlyWords = false;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (!onlyWords && arg.equals("--")) {
                onlyWords = true;
            } else if (!onlyWords && arg.startsWith("-") && arg.length() > 1) {
                int eq = arg.startsWith("--") ? arg.indexOf('=') : -1;
                String name = eq < 0 ? arg : arg.substring(0, eq);
                OptionSpec option = command.findOption(name);
                if (option == null) {
                    throw new UsageException(command.qualifiedName(), "Unknown option: '" + name + "'");
                }
                if (option.names().contains("--help")) {
                    request = Request.HELP;
                    continue;
                }
                if (option.names().contains(VERSION_OPTION) && request == Request.RUN) {
                    request = Request.VERSION;
                    continue;
                }
                String value;
                if (option.isFlag()) {
                    if (eq >= 0) {
                        throw new UsageException(command.qualifiedName(), "Option '" + name + "' takes no value");
                    }
                    value = Boolean.toString(!(option.negatable() && name.equals(option.negated())));
                } else if (eq >= 0) {
                    value = arg.substring(eq + 1);
                } else if (option.implicitValue() != null) {
                    value = option.implicitValue();
                } else if (i + 1 < args.size()) {
                    value = args.get(++i);
                } else {
                    throw new UsageException(command.qualifiedName(),
                            "Missing value for option '" + name + "' (" + option.label() + ")");
                }
                if (given.put(option, value) != null) {
                    throw new UsageException(command.qualifiedName(),
                            "Option '" + option.longName() + "' given more than once");
                }
            } else if (words.isEmpty() && !onlyWords && command.subcommands().containsKey(arg)) {
                command = command.subcommands().get(arg);
            } else if (words.isEmpty() && command.parameters().isEmpty() && !command.subcommands().isEmpty()) {
                throw new UsageException(command.qualifiedName(), "Unknown command: '" + arg + "' (commands: "
                        + String.join(", ", visibleCommands(command)) + ")");
            } else {
                words.add(arg);
            }
        }
        if (request != Request.RUN) {
            return new Invocation(command, request);
        }
        apply(command, given);
        applyParameters(command, words);
        if (command.action() == null) {
            throw new UsageException(command.qualifiedName(), "Missing command (commands: "
                    + String.join(", ", visibleCommands(command)) + ")");
        }
        return new Invocation(command, Request.RUN);
    }

    /** Sets the given options, then, for those not given, their settings or defaults, parents first. */
    private static void apply(CommandSpec command, Map<OptionSpec, String> given) {
        List<CommandSpec> chain = new ArrayList<>();
        for (CommandSpec c = command; c != null; c = c.parent()) {
            chain.addFirst(c);
        }
        for (CommandSpec c : chain) {
            for (OptionSpec o : c.options()) {
                if (given.containsKey(o)) {
                    set(c, o.setter(), given.get(o), "option '" + o.longName() + "'");
                }
            }
        }
        for (CommandSpec c : chain) {
            for (OptionSpec o : c.options()) {
                if (given.containsKey(o)) {
                    continue;
                }
                String setting = c.settings() == null ? null : c.settings().value(c, o);
                if (setting != null) {
                    set(c, o.setter(), setting, "setting '" + o.key() + "'");
                } else if (o.defaultValue() != null) {
                    set(c, o.setter(), o.defaultValue(), "the default of option '" + o.longName() + "'");
                } else if (o.required()) {
                    throw new UsageException(command.qualifiedName(), "Missing required option: '" + o.longName()
                            + "=" + o.label() + "'");
                }
            }
        }
    }

    private static void applyParameters(CommandSpec command, List<String> words) {
        List<CommandSpec.ParameterSpec> parameters = command.parameters();
        if (words.size() > parameters.size()) {
            throw new UsageException(command.qualifiedName(),
                    "Unmatched argument: '" + words.get(parameters.size()) + "'");
        }
        for (int i = 0; i < parameters.size(); i++) {
            CommandSpec.ParameterSpec p = parameters.get(i);
            if (i < words.size()) {
                set(command, p.setter(), words.get(i), "parameter " + p.label());
            } else if (p.required()) {
                throw new UsageException(command.qualifiedName(), "Missing required parameter: '" + p.label() + "'");
            }
        }
    }

    /** Hands {@code value} to {@code setter}; a value it refuses is a usage error naming {@code what}. */
    private static void set(CommandSpec command, Consumer<String> setter, String value, String what) {
        try {
            setter.accept(value);
        } catch (NumberFormatException e) {
            throw new UsageException(command.qualifiedName(), "Invalid value for " + what + ": '" + value
                    + "' is not a number");
        } catch (IllegalArgumentException e) {
            throw new UsageException(command.qualifiedName(), "Invalid value for " + what + ": " + e.getMessage());
        }
    }

    /** The names of the subcommands that help lists. */
    static List<String> visibleCommands(CommandSpec command) {
        return command.subcommands().values().stream().filter(c -> !c.isHidden()).map(CommandSpec::name).toList();
    }
}
