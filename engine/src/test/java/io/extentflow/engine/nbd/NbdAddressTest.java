package io.extentflow.engine.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NbdAddressTest {

    @Test
    void tcpWithPortAndExport() {
        NbdAddress a = NbdAddress.parse("nbd://example.com:10810/disk%20one");
        assertEquals("example.com", a.host());
        assertEquals(10810, a.port());
        assertEquals("disk one", a.export());
        assertFalse(a.isUnix());
        assertEquals("nbd://example.com:10810/disk%20one", a.toString());
    }

    @Test
    void tcpDefaultsToPort10809AndTheDefaultExport() {
        NbdAddress a = NbdAddress.parse("nbd://localhost");
        assertEquals(NbdAddress.DEFAULT_PORT, a.port());
        assertEquals("", a.export());
        assertEquals(a, NbdAddress.parse("nbd://localhost/"));
    }

    @Test
    void ipv6Host() {
        NbdAddress a = NbdAddress.parse("nbd://[::1]:2000/x");
        assertEquals("::1", a.host());
        assertEquals("nbd://[::1]:2000/x", a.toString());
    }

    @Test
    void unixSocket() {
        NbdAddress a = NbdAddress.parse("nbd+unix:///vm/disk+1?socket=/run/nbd%20x.sock");
        assertTrue(a.isUnix());
        assertEquals(Path.of("/run/nbd x.sock"), a.socket());
        assertEquals("vm/disk+1", a.export());
        assertEquals(a, NbdAddress.parse(a.toString().replace(" ", "%20")));
        assertEquals("", NbdAddress.parse("nbd+unix://?socket=/s").export());
    }

    @Test
    void badAddressesAreRefusedWithTheReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NbdAddress.parse("nbd+unix:///x"))
                .getMessage().contains("no socket parameter"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NbdAddress.parse("nbds://h/x"))
                .getMessage().contains("TLS is not supported"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NbdAddress.parse("nbd:///x"))
                .getMessage().contains("no host"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NbdAddress.parse("http://h/x"))
                .getMessage().contains("not an NBD URI"));
        assertTrue(NbdAddress.isNbd("nbd+unix:///?socket=/s"));
        assertFalse(NbdAddress.isNbd("/var/lib/nbd.raw"));
    }
}
