package io.extentflow.cli;

import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.engine.testing.ExternalTool;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs {@code extentflow} for tests: in this JVM (fast, under BlockHound) or as a separate process. */
final class Cli {

    private Cli() {
    }

    /** What a run printed and returned. */
    record Result(int exitCode, String out, String err) {

        /** The non-empty lines of standard error. */
        List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** Runs the command in this JVM, capturing its output. */
    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Extentflow.execute(new Console(new PrintWriter(out, true), new PrintWriter(err, true)), args);
        return new Result(code, out.toString(), err.toString());
    }

    /** The words that start {@code extentflow} as a new JVM with this test's class path. */
    static List<String> javaCommand() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Extentflow.class.getName());
    }

    /** {@link #javaCommand()} as one shell-quoted string, for pipelines run by {@code bash -c}. */
    static String shellCommand() {
        return String.join(" ", javaCommand().stream().map(w -> "'" + w.replace("'", "'\\''") + "'").toList());
    }

    /**
     * Runs the command as a new JVM with this test's class path, prefixed by {@code wrapper} (e.g. a
     * {@code setpriv} call that drops capabilities).
     */
    static Result runProcess(List<String> wrapper, String... args) {
        List<String> cmd = new ArrayList<>(wrapper);
        if (cmd.isEmpty()) {
            cmd.add("env"); // ExternalTool runs programs found on the PATH; the JVM is named by its full path
        }
        cmd.addAll(javaCommand());
        cmd.addAll(List.of(args));
        ExternalTool.Result r = ExternalTool.run(cmd);
        return new Result(r.exitCode(), r.stdout(), r.stderr());
    }
}
