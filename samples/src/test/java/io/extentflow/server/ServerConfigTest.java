package io.extentflow.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Each wither changes what it names and nothing else, and the result is checked as a whole. */
class ServerConfigTest {

    @Test
    void withersChangeOnlyTheirFields() {
        ServerConfig d = ServerConfig.defaults();
        ServerConfig c = d.withHost("0.0.0.0").withPort(0).withControlSocket(Path.of("/run/c.sock"))
                .withControlPort(7).withTls(Path.of("c.pem"), Path.of("k.pem")).withLimits(2, 3)
                .withBuffers(4096, 1 << 20, 2).withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(6))
                .withLocalSocket(Path.of("/run/l.sock")).withMetricsPort(9);
        assertEquals(new ServerConfig("0.0.0.0", 0, Path.of("/run/c.sock"), 7, Path.of("c.pem"), Path.of("k.pem"),
                2, 3, 4096, 1 << 20, 2, Duration.ofSeconds(5), Duration.ofSeconds(6), 9, Path.of("/run/l.sock")), c);
        assertEquals(new ServerConfig(d.host(), 1234, d.controlSocket(), d.controlPort(), d.tlsCert(), d.tlsKey(),
                d.maxReaders(), d.maxWriters(), d.chunkSize(), d.bufferMemory(), d.buffersPerRequest(),
                d.idleTimeout(), d.removeTimeout(), d.metricsPort(), d.localSocket()), d.withPort(1234));
    }

    @Test
    void aWitherCannotMakeAnInvalidConfig() {
        ServerConfig d = ServerConfig.defaults();
        assertThrows(IllegalArgumentException.class, () -> d.withTls(Path.of("c.pem"), null));
        assertThrows(IllegalArgumentException.class, () -> d.withLimits(0, 1));
        assertThrows(IllegalArgumentException.class, () -> d.withBuffers(1 << 20, 1 << 20, 2));
        assertThrows(IllegalArgumentException.class, () -> d.withMetricsPort(-2));
    }
}
