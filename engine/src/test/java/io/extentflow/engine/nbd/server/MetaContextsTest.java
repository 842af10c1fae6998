package io.extentflow.engine.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.extentflow.engine.capability.StatusMap;
import io.extentflow.engine.nbd.NbdExtent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/** Which contexts LIST and SET answer with, and the option data they parse. */
class MetaContextsTest {

    private static StatusMap named(String name) {
        return new StatusMap() {
            @Override
            public String context() {
                return name;
            }

            @Override
            public Flux<NbdExtent> map(long start, long length) {
                return Flux.empty();
            }
        };
    }

    private static final Map<String, StatusMap> CONTEXTS = new LinkedHashMap<>();

    static {
        for (String n : List.of("base:allocation", "qemu:allocation-depth", "qemu:dirty-bitmap:b1")) {
            CONTEXTS.put(n, named(n));
        }
    }

    private static List<String> names(List<MetaContexts.Selected> s) {
        return s.stream().map(MetaContexts.Selected::name).toList();
    }

    @Test
    void listTakesNamespacesAndNothingForEverything() {
        assertEquals(List.copyOf(CONTEXTS.keySet()), names(MetaContexts.list(CONTEXTS, List.of())));
        assertEquals(List.of("qemu:allocation-depth", "qemu:dirty-bitmap:b1"),
                names(MetaContexts.list(CONTEXTS, List.of("qemu:"))));
        assertEquals(List.of("qemu:dirty-bitmap:b1"), names(MetaContexts.list(CONTEXTS, List.of("qemu:dirty-bitmap:"))));
        assertEquals(List.of("base:allocation"), names(MetaContexts.list(CONTEXTS, List.of("base:", "x-other:"))));
    }

    @Test
    void setTakesExactNamesOnlyAndIgnoresUnknownOnes() {
        List<MetaContexts.Selected> set = MetaContexts.set(CONTEXTS, List.of("qemu:", "base:allocation", "nope:x",
                "qemu:dirty-bitmap:b1"));
        assertEquals(List.of("base:allocation", "qemu:dirty-bitmap:b1"), names(set));
        assertEquals(List.of(0, 2), set.stream().map(MetaContexts.Selected::id).toList());
        assertEquals(List.of(), MetaContexts.set(CONTEXTS, List.of()));
    }

    @Test
    void parsesTheOptionDataAndRefusesLengthsThatDoNotAddUp() {
        byte[] q = "base:allocation".getBytes(StandardCharsets.UTF_8);
        ByteBuffer good = ByteBuffer.allocate(4 + 2 + 4 + 4 + q.length).putInt(2).put((byte) 'e').put((byte) 'x')
                .putInt(1).putInt(q.length).put(q).flip();
        assertEquals(new MetaContexts.Query("ex", List.of("base:allocation")), MetaContexts.parse(good));
        ByteBuffer hugeCount = ByteBuffer.allocate(12).putInt(0).putInt(-1).putInt(0).flip();
        assertThrows(IllegalArgumentException.class, () -> MetaContexts.parse(hugeCount));
        ByteBuffer shortString = ByteBuffer.allocate(12).putInt(0).putInt(1).putInt(100).flip();
        assertThrows(IllegalArgumentException.class, () -> MetaContexts.parse(shortString));
        ByteBuffer trailing = ByteBuffer.allocate(9).putInt(0).putInt(0).put((byte) 1).flip();
        assertThrows(IllegalArgumentException.class, () -> MetaContexts.parse(trailing));
    }
}
