package io.extentflow.cli;

import static io.extentflow.cli.BadInputTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.server.ImageServer;
import io.extentflow.server.cli.ServeCommand;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve} and {@code ticket} when their ports and sockets are taken or gone. */
class ServeEdgesTest {

    @TempDir
    Path dir;

    @Test
    void aPortInUseIsNamed() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertOneLine(Cli.run("serve", "--host", "127.0.0.1", "--port", Integer.toString(port),
                            "--control-socket", dir.resolve("control.sock").toString()), ExitCodes.FAILURE,
                    "port " + port + " on 127.0.0.1 is in use");
        }
    }

    @Test
    void aControlSocketAnotherServerAnswersOnIsNotTakenOver() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (ImageServer first = ServeCommand.parse("--host", "127.0.0.1", "--port", "0",
                "--control-socket", socket.toString()).start()) {
            // started as `serve` starts it, but returning: a server that wrongly started would not block the test
            ServeCommand second = ServeCommand.parse("--host", "127.0.0.1", "--port", "0", "--control-socket",
                    socket.toString());
            IOException refused = assertThrows(IOException.class, () -> second.start().close());
            assertEquals("control socket " + socket + " is in use by another server; stop it or give another "
                    + "--control-socket", refused.getMessage());
            assertTrue(Files.exists(socket), "the first server keeps its control socket");
            Cli.Result show = Cli.run("ticket", "--control-socket", socket.toString(), "show", "nothing");
            assertTrue(show.err().contains("404") || show.err().contains("not"), () -> "the first server still "
                    + "answers on its socket: " + show);
        }
    }

    @Test
    void aStaleControlSocketIsReplaced() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            gone.bind(UnixDomainSocketAddress.of(socket)); // closed below: the file stays, no one listens
        }
        assertTrue(Files.exists(socket));
        try (ImageServer server = ServeCommand.parse("--host", "127.0.0.1", "--port", "0",
                "--control-socket", socket.toString()).start()) {
            assertNotNull(server);
            Cli.Result add = Cli.run("ticket", "--control-socket", socket.toString(), "add", "--id", "t1",
                    "--url", dir.resolve("x.raw").toString(), "--size", "4096");
            assertEquals(0, add.exitCode(), add::toString);
        }
    }

    @Test
    void aTicketCommandWithoutAServerSaysSo() {
        Path socket = dir.resolve("gone.sock");
        assertOneLine(Cli.run("ticket", "--control-socket", socket.toString(), "show", "t1"), ExitCodes.FAILURE,
                "no server at control socket " + socket);
    }
}
