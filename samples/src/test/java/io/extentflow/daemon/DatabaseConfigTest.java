package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The jobs database's address, and the source host a per-host limit counts. */
class DatabaseConfigTest {

    @Test
    void addressesParseAndNeverHoldThePassword() {
        DatabaseConfig c = DatabaseConfig.parse("postgresql://fleet@db.example:6543/jobs", "secret");
        assertEquals("fleet", c.user());
        assertEquals("db.example", c.host());
        assertEquals(6543, c.port());
        assertEquals("jobs", c.database());
        assertEquals("postgresql://fleet@db.example:6543/jobs", c.toString(), "no password in the text");
        assertEquals(5432, DatabaseConfig.parse("postgres://fleet@db/jobs", null).port());

        var inline = assertThrows(IllegalArgumentException.class,
                () -> DatabaseConfig.parse("postgresql://fleet:secret@db/jobs", null));
        assertTrue(!inline.getMessage().contains("secret"), inline.getMessage());
        for (String bad : new String[] {"mysql://fleet@db/jobs", "postgresql://db/jobs", "postgresql://fleet@db",
                "postgresql://fleet@db/a/b", "not an address"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> DatabaseConfig.parse(bad, null), bad);
            assertTrue(e.getMessage().contains("jobs database address"), e.getMessage());
        }
    }

    @Test
    void sourceHostsAreHostAndPortOfNetworkSources() {
        assertEquals("nbd-a:10809", SourceHost.of("nbd://NBD-A/export"));
        assertEquals("nbd-a:10810", SourceHost.of("nbd://nbd-a:10810/export"));
        assertEquals("imageio:443", SourceHost.of("https://imageio/images/t1"));
        assertEquals("imageio:54322", SourceHost.of("https://imageio:54322/images/t1"));
        assertNull(SourceHost.of("/var/lib/images/a.raw"));
        assertNull(SourceHost.of("nbd+unix:///export?socket=/run/a.sock"));
        assertNull(SourceHost.of("-"));
    }
}
