package io.extentflow.daemon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.cli.Extentflow;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.cli.args.OptionSpec;
import io.extentflow.daemon.DaemonConfig;
import io.extentflow.server.cli.ServeCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code extentflow serve}: every setting documented in --help; flags override the config file. */
class ServeSettingsTest {

    @TempDir
    Path dir;

    @Test
    void helpDocumentsEverySetting() {
        StringWriter out = new StringWriter();
        PrintWriter w = new PrintWriter(out, true);
        assertEquals(0, Extentflow.execute(new Console(w, w), "serve", "--help"));
        String help = out.toString();
        for (OptionSpec o : ServeCommand.spec(new ServeCommand()).options()) {
            assertTrue(help.contains(o.longName()), o.longName() + " missing from:\n" + help);
            assertTrue(!o.description().isBlank(), o.longName() + " has no description");
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
        ServeCommand serve = ServeCommand.parse("--config", config.toString(), "--max-jobs", "3");
        DaemonOptions daemon = serve.daemonOptions();
        assertTrue(daemon.enabled());
        DaemonConfig c = daemon.config();
        assertEquals(dir.resolve("state"), c.stateDir());
        assertEquals("from-file", c.token());
        assertEquals(3, c.maxRunning(), "the flag wins over the file");
        assertEquals(Duration.ofMillis(250), c.checkpointInterval());
        assertEquals(3, serve.config().maxReaders(), "image server settings come from the file too");

        // without the file: the built-in defaults, no daemon
        ServeCommand plain = ServeCommand.parse();
        assertTrue(!plain.daemonOptions().enabled());
        assertNotEquals(3, plain.config().maxReaders());
    }

    @Test
    void unknownSettingInTheFileIsAnError() throws Exception {
        Path config = Files.writeString(dir.resolve("bad.properties"), "max-job=5\n");
        StringWriter err = new StringWriter();
        int code = Extentflow.execute(new Console(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true)),
                "serve", "--config", config.toString(), "--port", "0");
        assertNotEquals(0, code);
        assertTrue(err.toString().contains("unknown setting 'max-job'"), err.toString());
    }
}
