package io.extentflow.daemon.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Where {@code extentflow serve} takes settings not given as flags: the environment variable
 * {@code EXTENTFLOW_<NAME>} ({@code --state-dir} is {@code EXTENTFLOW_STATE_DIR}), then the
 * {@code --config} properties file (or {@code EXTENTFLOW_CONFIG}), key {@code <name>}
 * ({@code state-dir}), then the option's own default. Picocli asks after parsing the command line,
 * so {@code --config} is known by then.
 */
public final class ServeSettings implements CommandLine.IDefaultValueProvider {

    private static final Set<String> NOT_SETTINGS = Set.of("help", "version", "config", "debug");

    private Path loadedFrom;
    private Properties loaded;

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option)) {
            return null;
        }
        String name = name(option);
        if (NOT_SETTINGS.contains(name)) {
            return name.equals("config") ? System.getenv("EXTENTFLOW_CONFIG") : null;
        }
        String env = System.getenv(variable(name));
        if (env != null) {
            return env;
        }
        Properties file = file(option.command());
        return file == null ? null : file.getProperty(name);
    }

    /** The environment variable of an option: {@code state-dir} is {@code EXTENTFLOW_STATE_DIR}. */
    public static String variable(String name) {
        return "EXTENTFLOW_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    private static String name(OptionSpec option) {
        return option.longestName().replaceFirst("^-+", "");
    }

    private synchronized Properties file(CommandSpec command) {
        OptionSpec config = command.findOption("--config");
        Object value = config == null ? null : config.getValue();
        Path path = value instanceof Path p ? p : System.getenv("EXTENTFLOW_CONFIG") != null
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
            Set<String> known = command.options().stream().map(ServeSettings::name).collect(Collectors.toSet());
            for (String key : p.stringPropertyNames()) {
                if (!known.contains(key) || NOT_SETTINGS.contains(key)) {
                    throw new CommandLine.ParameterException(command.commandLine(), path + ": unknown setting '"
                            + key + "' (settings are the long option names without dashes)");
                }
            }
            loaded = p;
            loadedFrom = path;
        }
        return loaded;
    }
}
