package io.extentflow.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.cli.Extentflow;
import io.extentflow.daemon.DaemonConfig;
import io.extentflow.server.cli.ServeCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** {@code extentflow serve}: every setting documented in --help; flags override the config file. */
class ServeSettingsTest {

    @TempDir
    Path dir;

    @Test
    void helpDocumentsEverySetting() {
        CommandLine cl = Extentflow.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        assertEquals(0, cl.execute("serve", "--help"));
        String help = out.toString();
        for (OptionSpec o : cl.getSubcommands().get("serve").getCommandSpec().options()) {
            assertTrue(help.contains(o.longestName()), o.longestName() + " missing from:\n" + help);
            assertTrue(o.description().length > 0, o.longestName() + " has no description");
        }
        for (String word : new String[] {"--state-dir", "--token-file", "EXTENTFLOW_TOKEN", "--config",
                "EXTENTFLOW_<NAME>", "--max-jobs", "/v1/copies"}) {
            assertTrue(help.contains(word), word + " missing from:\n" + help);
        }
    }

    @Test
    void configFileFillsWhatFlagsDoNotSay() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "from-file\n");
        Path config = Files.writeString(dir.resolve("extentflow.properties"), String.join("\n",
                "# the daemon's settings",
                "state-dir=" + dir.resolve("state"),
                "token-file=" + token,
                "max-jobs=5",
                "checkpoint-interval=250ms",
                "max-readers=3",
                ""));
        ServeCommand serve = new ServeCommand();
        CommandLine cl = new CommandLine(serve);
        cl.parseArgs("--config", config.toString(), "--max-jobs", "3");
        DaemonOptions daemon = (DaemonOptions) cl.getMixins().get("daemonOptions");
        assertTrue(daemon.enabled());
        DaemonConfig c = daemon.config();
        assertEquals(dir.resolve("state"), c.stateDir());
        assertEquals("from-file", c.token());
        assertEquals(3, c.maxRunning(), "the flag wins over the file");
        assertEquals(Duration.ofMillis(250), c.checkpointInterval());
        assertEquals(3, serve.config().maxReaders(), "image server settings come from the file too");

        // without the file: the built-in defaults, no daemon
        ServeCommand plain = new ServeCommand();
        CommandLine pl = new CommandLine(plain);
        pl.parseArgs();
        assertTrue(!((DaemonOptions) pl.getMixins().get("daemonOptions")).enabled());
        assertNotEquals(3, plain.config().maxReaders());
    }

    @Test
    void unknownSettingInTheFileIsAnError() throws Exception {
        Path config = Files.writeString(dir.resolve("bad.properties"), "max-job=5\n");
        CommandLine cl = Extentflow.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        cl.setOut(new PrintWriter(new StringWriter(), true));
        int code = cl.execute("serve", "--config", config.toString(), "--port", "0");
        assertNotEquals(0, code);
        assertTrue(err.toString().contains("unknown setting 'max-job'"), err.toString());
    }
}
