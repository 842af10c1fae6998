package io.extentflow.daemon.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.OptionSpec;
import io.extentflow.cli.args.UsageException;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Where {@code extentflow serve} takes settings not given as flags: the environment variable
 * {@code EXTENTFLOW_<NAME>} ({@code --state-dir} is {@code EXTENTFLOW_STATE_DIR}), then the
 * {@code --config} properties file (or {@code EXTENTFLOW_CONFIG}), key {@code <name>}
 * ({@code state-dir}), then the option's own default. Asked after the command line is applied, so
 * {@code --config} is known by then.
 */
public final class ServeSettings implements CommandSpec.Settings {

    private static final Set<String> NOT_SETTINGS = Set.of("help", "version", "config", "debug");

    private final Supplier<Path> configFlag;
    private Path loadedFrom;
    private Properties loaded;

    /** Settings for a command whose {@code --config} value {@code configFlag} gives ({@code null} when not given). */
    public ServeSettings(Supplier<Path> configFlag) {
        this.configFlag = configFlag;
    }

    @Override
    public String value(CommandSpec command, OptionSpec option) {
        String name = option.key();
        if (NOT_SETTINGS.contains(name)) {
            return name.equals("config") ? System.getenv("EXTENTFLOW_CONFIG") : null;
        }
        String env = System.getenv(variable(name));
        if (env != null) {
            return env;
        }
        Properties file = file(command);
        return file == null ? null : file.getProperty(name);
    }

    /** The environment variable of an option: {@code state-dir} is {@code EXTENTFLOW_STATE_DIR}. */
    public static String variable(String name) {
        return "EXTENTFLOW_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    private Properties file(CommandSpec command) {
        Path path = configFlag.get() != null ? configFlag.get() : System.getenv("EXTENTFLOW_CONFIG") != null
                ? Path.of(System.getenv("EXTENTFLOW_CONFIG")) : null;
        if (path == null) {
            return null;
        }
        if (!path.equals(loadedFrom)) {
            Properties p = new Properties();
            try (Reader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
                p.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the config file " + path + ": " + e.getMessage(), e);
            }
            Set<String> known = command.options().stream().map(OptionSpec::key).collect(Collectors.toSet());
            for (String key : p.stringPropertyNames()) {
                if (!known.contains(key) || NOT_SETTINGS.contains(key)) {
                    throw new UsageException(command.qualifiedName(), path + ": unknown setting '" + key
                            + "' (settings are the long option names without dashes)");
                }
            }
            loaded = p;
            loadedFrom = path;
        }
        return loaded;
    }
}
