package io.extentflow.cli.args;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The command-line parser on a small command tree: forms, inheritance, settings, defaults and errors. */
class ArgumentParserTest {

    /** What the setters of {@link #tree()} received, in order. */
    private final List<String> seen = new ArrayList<>();

    private CommandSpec tree() {
        CommandSpec copy = CommandSpec.named("copy", "Copies.")
                .parameter("SRC", "From.", v -> seen.add("src=" + v))
                .optionalParameter("DST", "To.", v -> seen.add("dst=" + v))
                .option("--size", "N", "A number.", "7", v -> seen.add("size=" + Integer.parseInt(v)))
                .flag("--json", "JSON.", () -> seen.add("json"))
                .negatableFlag("--progress", "Bar.", v -> seen.add("progress=" + v))
                .action(c -> 0);
        CommandSpec root = CommandSpec.named("tool", "A tool.")
                .flag("--debug", "Debug.", () -> seen.add("debug"))
                .requiredOption("--mode", "M", "Mode.", v -> seen.add("mode=" + v));
        return root.subcommand(copy);
    }

    private ArgumentParser.Invocation parse(String... args) {
        return ArgumentParser.parse(tree(), List.of(args));
    }

    private String error(String... args) {
        return assertThrows(UsageException.class, () -> parse(args)).getMessage();
    }

    @Test
    void valuesReachTheirSettersDefaultsFillTheRest() {
        ArgumentParser.Invocation run = parse("--mode=x", "copy", "a", "--size", "3", "--json", "--debug");
        assertEquals("copy", run.command().name());
        assertEquals(ArgumentParser.Request.RUN, run.request());
        assertEquals(List.of("debug", "mode=x", "size=3", "json", "src=a"), seen);
        seen.clear();
        parse("copy", "--mode", "y", "--no-progress", "--", "-");
        assertEquals(List.of("mode=y", "progress=false", "size=7", "src=-"), seen, "'-' is a parameter");
    }

    @Test
    void anOptionalValueIsTakenOnlyAfterAnEqualsSign() {
        CommandSpec copy = CommandSpec.named("copy", "Copies.")
                .parameter("SRC", "From.", v -> seen.add("src=" + v))
                .optionalValueOption("--compress", "CODEC", "Compress.", "zstd", v -> seen.add("compress=" + v))
                .action(c -> 0);
        ArgumentParser.parse(copy, List.of("--compress", "zlib"));
        assertEquals(List.of("compress=zstd", "src=zlib"), seen, "a following word is a parameter");
        seen.clear();
        ArgumentParser.parse(copy, List.of("--compress=zlib", "a"));
        assertEquals(List.of("compress=zlib", "src=a"), seen);
        seen.clear();
        ArgumentParser.parse(copy, List.of("a"));
        assertEquals(List.of("src=a"), seen, "not given, no value");
        assertTrue(HelpText.of(copy).contains("--compress[=CODEC]"), HelpText.of(copy));
    }

    @Test
    void settingsComeBeforeDefaults() {
        CommandSpec root = tree().settings((command, option) -> Map.of("mode", "from-settings").get(option.key()));
        ArgumentParser.parse(root, List.of("copy", "a"));
        assertTrue(seen.contains("mode=from-settings"), seen::toString);
    }

    @Test
    void helpAndVersionRunNoSetter() {
        ArgumentParser.Invocation help = parse("copy", "--size", "x", "--help");
        assertEquals(ArgumentParser.Request.HELP, help.request());
        assertEquals("copy", help.command().name());
        assertEquals(List.of(), seen);
    }

    @Test
    void wrongCommandLinesSayWhatIsWrong() {
        assertEquals("Unknown option: '--nope'", error("--mode=x", "copy", "a", "--nope"));
        assertEquals("Unknown command: 'paste' (commands: copy)", error("paste"));
        assertEquals("Missing required parameter: 'SRC'", error("--mode=x", "copy"));
        assertEquals("Unmatched argument: 'c'", error("--mode=x", "copy", "a", "b", "c"));
        assertEquals("Missing required option: '--mode=M'", error("copy", "a"));
        assertEquals("Missing value for option '--size' (N)", error("--mode=x", "copy", "a", "--size"));
        assertEquals("Option '--json' takes no value", error("--mode=x", "copy", "a", "--json=yes"));
        assertEquals("Option '--size' given more than once", error("--mode=x", "copy", "a", "--size=1", "--size=2"));
        assertEquals("Invalid value for option '--size': 'ten' is not a number",
                error("--mode=x", "copy", "a", "--size=ten"));
        assertEquals("Missing command (commands: copy)", error("--mode=x"));
        UsageException e = assertThrows(UsageException.class, () -> parse("copy", "a", "--nope"));
        assertEquals("tool copy", e.command(), "the help to point at");
    }

    @Test
    void helpTextListsParametersOptionsAndDefaults() {
        CommandSpec copy = tree().subcommands().get("copy");
        String help = HelpText.of(copy);
        assertTrue(help.startsWith("Usage: tool copy [OPTIONS] SRC [DST]\nCopies.\n"), help);
        assertTrue(help.contains("\n      --size=N               A number. Default: 7.\n"), help);
        assertTrue(help.contains("\n      --[no-]progress        Bar.\n"), help);
        assertTrue(help.contains("\n      --mode=M               Required. Mode.\n"), () -> "inherited: " + help);
        assertTrue(help.contains("\n  -h, --help "), help);
        assertNull(copy.findOption("--absent"));
    }
}
