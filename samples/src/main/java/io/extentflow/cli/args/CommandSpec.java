package io.extentflow.cli.args;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What one command accepts, declared in code: name, help text, options, positional parameters,
 * subcommands and the action that runs it. Values reach the command object through setters given
 * with each option, so a command is a plain class with fields.
 *
 * <p>Why not an annotation-driven library: building such a model by reflection cost a short-lived
 * {@code extentflow copy} about 0.19 s of its 0.6 s start-up on a 2-vCPU VM (and its Java 5 class
 * files cannot be in the JVM's ahead-of-time cache); this model costs nothing measurable.
 *
 * <pre>{@code
 * CommandSpec.named("copy", "Copies image SRC to DST.")
 *     .parameter("SRC", "Image to read.", v -> source = v)
 *     .option("--request-size", "SIZE", "Largest data request.", "4MiB", v -> size = Sizes.parse(v))
 *     .flag("--json", "Print the summary as JSON.", () -> json = true)
 *     .action(this::call);
 * }</pre>
 */
public final class CommandSpec {

    /** Runs a command once its command line has been applied. */
    @FunctionalInterface
    public interface Action {
        /** Runs the command, printing to {@code console}; returns the exit code. */
        int run(Console console) throws Exception;
    }

    /** Where a command prints: standard output and error, or a test's writers. */
    public record Console(PrintWriter out, PrintWriter err) {
    }

    /**
     * Values for options the command line did not give, before their defaults: environment
     * variables, a configuration file. Asked after the given options are applied, so an option such
     * as {@code --config} can say where the other values come from.
     */
    @FunctionalInterface
    public interface Settings {
        /** The value of {@code option} in the settings, or {@code null}. */
        String value(CommandSpec command, OptionSpec option);
    }

    private final String name;
    private final List<String> description;
    private final List<OptionSpec> options = new ArrayList<>();
    private final List<ParameterSpec> parameters = new ArrayList<>();
    private final Map<String, CommandSpec> subcommands = new LinkedHashMap<>();
    private final List<String> epilog = new ArrayList<>();
    private CommandSpec parent;
    private boolean hidden;
    private Action action;
    private Settings settings;

    private CommandSpec(String name, List<String> description) {
        this.name = name;
        this.description = List.copyOf(description);
        options.add(new OptionSpec(List.of("-h", "--help"), null, "Show this help message and exit.", null, false,
                false, v -> { }));
    }

    /** A command called {@code name}; each description line is one paragraph of its help. */
    public static CommandSpec named(String name, String... description) {
        return new CommandSpec(name, List.of(description));
    }

    /** Adds a valued option ({@code --name VALUE}); {@code defaultValue} may be {@code null}. */
    public CommandSpec option(String name, String label, String description, String defaultValue,
            Consumer<String> setter) {
        return add(new OptionSpec(List.of(name), label, description, defaultValue, false, false, setter));
    }

    /**
     * Adds an option whose value may be left out: {@code --name} means {@code implicitValue}, and a
     * value is given as {@code --name=VALUE} (a following word is never taken as its value).
     */
    public CommandSpec optionalValueOption(String name, String label, String description, String implicitValue,
            Consumer<String> setter) {
        return add(new OptionSpec(List.of(name), label, description, null, false, false, setter, implicitValue));
    }

    /** Adds a valued option the command line must give. */
    public CommandSpec requiredOption(String name, String label, String description, Consumer<String> setter) {
        return add(new OptionSpec(List.of(name), label, description, null, true, false, setter));
    }

    /** Adds a flag; {@code setter} runs only when the flag is given. */
    public CommandSpec flag(String name, String description, Runnable setter) {
        return add(new OptionSpec(List.of(name), null, description, null, false, false, v -> setter.run()));
    }

    /** Adds a flag with a {@code --no-} form; {@code setter} gets which one was given, if any. */
    public CommandSpec negatableFlag(String name, String description, Consumer<Boolean> setter) {
        return add(new OptionSpec(List.of(name), null, description, null, false, true,
                v -> setter.accept(Boolean.parseBoolean(v))));
    }

    /** Adds an option described in full. */
    public CommandSpec add(OptionSpec option) {
        for (String n : option.names()) {
            if (findOwnOption(n) != null) {
                throw new IllegalArgumentException(name + ": option " + n + " declared twice");
            }
        }
        options.add(option);
        return this;
    }

    /** Adds the next required positional parameter. */
    public CommandSpec parameter(String label, String description, Consumer<String> setter) {
        parameters.add(new ParameterSpec(label, description, true, setter));
        return this;
    }

    /** Adds the next positional parameter, which may be left out. */
    public CommandSpec optionalParameter(String label, String description, Consumer<String> setter) {
        parameters.add(new ParameterSpec(label, description, false, setter));
        return this;
    }

    /** Adds a subcommand; the options of this command are accepted after its name too. */
    public CommandSpec subcommand(CommandSpec sub) {
        sub.parent = this;
        subcommands.put(sub.name, sub);
        return this;
    }

    /** Leaves this command out of its parent's list of commands. */
    public CommandSpec hidden() {
        this.hidden = true;
        return this;
    }

    /** Adds lines printed at the end of the help. */
    public CommandSpec epilog(String... lines) {
        epilog.addAll(List.of(lines));
        return this;
    }

    /** What runs the command. A command without one needs a subcommand. */
    public CommandSpec action(Action action) {
        this.action = action;
        return this;
    }

    /** Where values of options not on the command line come from before their defaults. */
    public CommandSpec settings(Settings settings) {
        this.settings = settings;
        return this;
    }

    /** Applies a {@code Consumer<CommandSpec>} that adds shared options (a group of flags several commands take). */
    public CommandSpec with(Consumer<CommandSpec> options) {
        options.accept(this);
        return this;
    }

    /** The command's own name ({@code copy}). */
    public String name() {
        return name;
    }

    /** The name with its parents' names ({@code extentflow ticket add}). */
    public String qualifiedName() {
        return parent == null ? name : parent.qualifiedName() + " " + name;
    }

    /** The help paragraphs. */
    public List<String> description() {
        return description;
    }

    /** This command's own options, {@code --help} first. */
    public List<OptionSpec> options() {
        return Collections.unmodifiableList(options);
    }

    /** The positional parameters, in order. */
    public List<ParameterSpec> parameters() {
        return Collections.unmodifiableList(parameters);
    }

    /** The subcommands by name, in the order they were added. */
    public Map<String, CommandSpec> subcommands() {
        return Collections.unmodifiableMap(subcommands);
    }

    /** The lines that end the help. */
    public List<String> epilog() {
        return parent == null ? epilog : concat(parent.epilog(), epilog);
    }

    /** The command this is a subcommand of, or {@code null}. */
    public CommandSpec parent() {
        return parent;
    }

    /** Whether the parent's list of commands leaves this one out. */
    public boolean isHidden() {
        return hidden;
    }

    /** What runs the command, or {@code null}. */
    public Action action() {
        return action;
    }

    Settings settings() {
        return settings;
    }

    /** The option named {@code name} on this command or, as they are inherited, on a parent; or {@code null}. */
    public OptionSpec findOption(String name) {
        for (CommandSpec c = this; c != null; c = c.parent) {
            OptionSpec o = c.findOwnOption(name);
            if (o != null) {
                return o;
            }
        }
        return null;
    }

    private OptionSpec findOwnOption(String word) {
        return options.stream().filter(o -> o.matches(word)).findFirst().orElse(null);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /**
     * One positional parameter.
     *
     * @param label       its name in help ({@code SRC})
     * @param description one paragraph of help
     * @param required    whether the command line must give it
     * @param setter      receives the value
     */
    public record ParameterSpec(String label, String description, boolean required, Consumer<String> setter) {
    }
}
