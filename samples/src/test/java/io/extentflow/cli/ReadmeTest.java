package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.OptionSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * README.md's "The command" section and {@code extentflow --help} agree on every command and option,
 * and nothing in the documentation points outside the repository.
 */
class ReadmeTest {

    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Pattern OPTION = Pattern.compile("(?<![\\w-])--[a-z][a-z0-9-]*");
    private static final Pattern OTHER_TOOL = Pattern.compile("`(qemu-img|qemu-nbd|nbdinfo|nbdcopy|cp|zstd) [^`]*`");

    @Test
    void theReadmeNamesEveryCommandAndOptionOfTheHelpAndNoOther() throws Exception {
        String section = commandSection();
        Set<String> helpOptions = new TreeSet<>(List.of("--debug", "--help", "--version"));
        for (CommandSpec c : allCommands()) {
            String shown = c.parent() == null ? "extentflow " + c.name() : c.name();
            assertTrue(section.contains(shown), () -> "README does not show the command " + c.qualifiedName());
            for (OptionSpec o : c.options()) {
                o.names().stream().filter(n -> n.startsWith("--")).forEach(helpOptions::add);
                if (o.negatable()) {
                    helpOptions.add("--no-" + o.longName().substring(2));
                }
            }
        }
        Set<String> readmeOptions = new TreeSet<>();
        // the options of other tools the section compares with are not ours
        String ours = OTHER_TOOL.matcher(section).replaceAll("");
        Matcher m = OPTION.matcher(ours);
        while (m.find()) {
            readmeOptions.add(m.group());
        }
        Set<String> missing = new TreeSet<>(helpOptions);
        missing.removeAll(readmeOptions);
        Set<String> unknown = new TreeSet<>(readmeOptions);
        unknown.removeAll(helpOptions);
        assertEquals(Set.of(), missing, "options of --help that README.md does not name");
        assertEquals(Set.of(), unknown, "options README.md names that no command has");
    }

    @Test
    void noDocumentPointsOutsideTheRepository() throws Exception {
        List<Path> docs = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("perf/README.md"),
                ROOT.resolve("perf/lib.sh"), ROOT.resolve("samples/README.md")));
        try (Stream<Path> more = Files.list(ROOT.resolve("docs"))) {
            more.filter(p -> p.toString().endsWith(".md")).forEach(docs::add);
        }
        // built, not written out, so that a grep of the repository for the link finds only real ones
        String sharedFolder = String.join("/", "..", "shared");
        for (Path doc : docs) {
            String text = Files.readString(doc);
            assertTrue(!text.contains(sharedFolder) && !text.contains("/work/"),
                    () -> doc + " points outside the repository");
        }
    }

    /** From README.md's "## The command" to the next section. */
    private static String commandSection() throws Exception {
        String readme = Files.readString(ROOT.resolve("README.md"));
        int start = readme.indexOf("## The command\n");
        assertTrue(start >= 0, "README.md has a section 'The command'");
        int end = readme.indexOf("\n## ", start + 1);
        return readme.substring(start, end < 0 ? readme.length() : end);
    }

    /** Every command and subcommand, hidden ones too (they are in the README, marked). */
    private static List<CommandSpec> allCommands() {
        List<CommandSpec> all = new ArrayList<>();
        List<CommandSpec> todo = new ArrayList<>(Extentflow.subcommands());
        while (!todo.isEmpty()) {
            CommandSpec c = todo.remove(0);
            all.add(c);
            todo.addAll(c.subcommands().values());
        }
        return all;
    }
}
