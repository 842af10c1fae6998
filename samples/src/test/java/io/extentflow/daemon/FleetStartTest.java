package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.cli.Extentflow;
import io.extentflow.daemon.cli.DaemonOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code extentflow serve --jobs-db} refuses to start, in one line, when it cannot use the database. */
class FleetStartTest {

    @TempDir
    Path dir;

    /** Result of a daemon that exited: its code and standard error. */
    private record Exit(int code, String stderr) {
        /** The lines the command itself wrote (not the log's). */
        List<String> errorLines() {
            return stderr.lines().filter(l -> l.startsWith("extentflow:")).toList();
        }
    }

    private Exit serve(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Extentflow.class.getName(), "serve", "--port", "0", "--control-socket",
                dir.resolve("ctl.sock").toString()));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(dir, "serve-", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put(DaemonOptions.TOKEN_VARIABLE, JobsClient.TOKEN);
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("serve did not exit within 60 s: " + Files.readString(err));
        }
        Exit exit = new Exit(p.exitValue(), Files.readString(err));
        System.out.println("serve exited " + exit.code() + ": " + exit.errorLines());
        return exit;
    }

    @Test
    void unreachableDatabaseIsOneLineAndANonZeroExit() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed: nobody listens there
        }
        String address = "postgresql://extentflow@127.0.0.1:" + port + "/jobs";
        Exit e = serve(Map.of(DatabaseConfig.PASSWORD_VARIABLE, "x"), "--jobs-db", address);
        assertNotEquals(0, e.code(), e.stderr());
        assertEquals(1, e.errorLines().size(), e.stderr());
        assertTrue(e.errorLines().getFirst().startsWith("extentflow: cannot reach the jobs database " + address + ": "),
                e.stderr());
        assertTrue(e.errorLines().getFirst().contains("Connection refused"), e.stderr());
        assertTrue(!e.stderr().contains("\tat "), "no stack trace: " + e.stderr());
    }

    @Test
    void wrongPasswordAndPasswordInTheAddressAreRefused() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            Exit wrong = serve(Map.of(DatabaseConfig.PASSWORD_VARIABLE, "not-" + pg.password), "--jobs-db",
                    pg.address());
            assertNotEquals(0, wrong.code(), wrong.stderr());
            assertEquals(1, wrong.errorLines().size(), wrong.stderr());
            assertTrue(wrong.errorLines().getFirst().startsWith("extentflow: cannot reach the jobs database "
                    + pg.address() + ": ") && wrong.errorLines().getFirst().contains("password"), wrong.stderr());

            Exit inline = serve(Map.of(), "--jobs-db", pg.address().replace("extentflow@",
                    "extentflow:" + pg.password + "@"));
            assertNotEquals(0, inline.code(), inline.stderr());
            assertEquals(List.of("extentflow: the jobs database address holds a password; give it in "
                    + DatabaseConfig.PASSWORD_VARIABLE + " or a file (--jobs-db-password-file), never on the "
                    + "command line"), inline.errorLines());
            assertTrue(!inline.stderr().contains(pg.password), "the password is not repeated");

            // the password from a file works
            Path file = dir.resolve("db-password");
            Files.writeString(file, pg.password + "\n");
            try (DaemonProcess d = DaemonProcess.start(dir, JobsClient.TOKEN, "--jobs-db", pg.address(),
                    "--jobs-db-password-file", file.toString(), "--control-socket", dir.resolve("ok.sock").toString())) {
                assertEquals(0, Fleet.jobs(new JobsClient(d.port)).size());
            }
        }
    }
}
