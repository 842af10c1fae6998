package io.extentflow.engine.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/** qemu-img as the judge of the qcow2 images the project writes: its check, info, map and compare. */
public final class QemuImg {

    private static final ObjectMapper JSON = new ObjectMapper();

    private QemuImg() {
    }

    /**
     * {@code qemu-img check --output=json IMAGE}, asserted free of errors, corruptions and leaks (qemu
     * exits non-zero on any of them too); returns its report (allocated and compressed clusters).
     */
    public static JsonNode check(Path image) throws IOException {
        JsonNode check = JSON.readTree(ExternalTool.check("qemu-img", "check", "--output=json", image.toString()));
        assertEquals(0, check.path("check-errors").asInt(), check::toString);
        assertEquals(0, check.path("corruptions").asInt(), check::toString);
        assertEquals(0, check.path("leaks").asInt(), check::toString);
        return check;
    }

    /** {@code qemu-img info --output=json IMAGE}, asserted not marked corrupt. */
    public static JsonNode info(Path image) throws IOException {
        JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", image.toString()));
        assertFalse(info.path("format-specific").path("data").path("corrupt").asBoolean(), info::toString);
        return info;
    }

    /** {@code qemu-img map --output=json IMAGE}, parsed. */
    public static JsonNode map(Path image) throws IOException {
        return JSON.readTree(ExternalTool.check("qemu-img", "map", "--output=json", image.toString()));
    }

    /** {@code qemu-img compare A B}: fails unless both read the same (B through its backing chain). */
    public static void compare(Path a, Path b) {
        ExternalTool.check("qemu-img", "compare", a.toString(), b.toString());
    }

    /** {@code qemu-img compare -f FORMAT A B}: for a source whose format must not be probed. */
    public static void compare(String formatOfA, Path a, Path b) {
        ExternalTool.check("qemu-img", "compare", "-f", formatOfA, a.toString(), b.toString());
    }
}
