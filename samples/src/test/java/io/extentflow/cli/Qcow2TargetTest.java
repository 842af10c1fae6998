package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sinks.qcow2.Qcow2Compression;
import io.extentflow.sinks.qcow2.Qcow2FileSink;
import io.extentflow.sinks.qcow2.Qcow2SinkOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * qcow2 images written by the qcow2 sink, read by the project itself: copied from the project's raw
 * and qcow2 readers, the project's {@code map --output=json} prints what {@code qemu-img map} prints,
 * and the project's qcow2 reader gives back the source's bytes (an overlay's through its backing
 * file). A {@code .qcow2} target of {@code extentflow copy} is a qcow2 image.
 */
class Qcow2TargetTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SIZE = (5L << 20) + (12 << 10);

    @TempDir
    static Path dir;
    private static Path sparse;
    private static Path zlib;
    private static Path backing;

    @BeforeAll
    static void images() throws Exception {
        sparse = dir.resolve("sparse.raw");
        TestImages.randomSparseRaw(sparse, SIZE, 61, 50, 192 << 10);
        zlib = dir.resolve("zlib.qcow2");
        ExternalTool.check("qemu-img", "convert", "-c", "-O", "qcow2", "-o", "cluster_size=16384",
                sparse.toString(), zlib.toString());
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -z 2M 512k", "-c", "write -P 9 4100k 3k", zlib.toString());
        backing = dir.resolve("backing.raw");
        TestImages.randomSparseRaw(backing, SIZE, 62, 80, 1 << 20);
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String source : List.of("sparse.raw", "zlib.qcow2")) {
            for (int clusterSize : new int[] {4 << 10, 64 << 10, 2 << 20}) {
                for (String mode : List.of("plain", "zlib", "zstd", "overlay")) {
                    out.add(Arguments.of(source, clusterSize, mode));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} into {1}-byte clusters, {2}")
    @MethodSource("cases")
    void theProjectMapsAndReadsWhatItWrote(String sourceName, int clusterSize, String mode) throws Exception {
        Path source = dir.resolve(sourceName);
        Path out = dir.resolve(sourceName + "-" + clusterSize + "-" + mode + ".qcow2");
        Qcow2SinkOptions options = new Qcow2SinkOptions(clusterSize, switch (mode) {
            case "zlib" -> Qcow2Compression.ZLIB;
            case "zstd" -> Qcow2Compression.ZSTD;
            default -> Qcow2Compression.NONE;
        }, mode.equals("overlay") ? backing.getFileName().toString() : null, null);
        try (ImageSource src = Endpoints.source(source.toString()).block(TIMEOUT);
             Qcow2FileSink sink = Qcow2FileSink.open(out, src.size(), options).block(TIMEOUT)) {
            Copy.from(src).to(sink).run().block(TIMEOUT);
        }
        ExternalTool.check("qemu-img", "check", out.toString());

        Cli.Result map = Cli.run("map", "--output=json", out.toString());
        assertEquals(0, map.exitCode(), map::toString);
        JsonNode ours = JSON.readTree(map.out());
        JsonNode qemus = JSON.readTree(ExternalTool.check("qemu-img", "map", "--output=json", out.toString()));
        assertEquals(qemus, ours);

        // the project's reader, through a raw copy
        Path back = dir.resolve(out.getFileName() + ".raw");
        try (ImageSource written = Endpoints.source(out.toString()).block(TIMEOUT);
             ImageSink raw = Endpoints.sink(back.toString(), written.size()).block(TIMEOUT)) {
            Copy.from(written).to(raw).run().block(TIMEOUT);
        }
        Path expected = dir.resolve(sourceName + ".expected.raw");
        synchronized (Qcow2TargetTest.class) {
            if (!Files.exists(expected)) {
                ExternalTool.check("qemu-img", "convert", "-O", "raw", source.toString(), expected.toString());
            }
        }
        TestImages.assertSameContent(expected, back);
    }

    @Test
    void aQcow2TargetOfTheCopyCommandIsAQcow2Image() throws Exception {
        Path out = dir.resolve("cli.qcow2");
        Cli.Result r = Cli.run("copy", sparse.toString(), out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", out.toString()));
        assertEquals("qcow2", info.get("format").asText());
        ExternalTool.check("qemu-img", "check", out.toString());
        ExternalTool.check("qemu-img", "compare", sparse.toString(), out.toString());
    }

    @Test
    void aKilledCopyLeavesNoQcow2ImageOrACompleteOne() throws Exception {
        Path big = dir.resolve("big.raw");
        TestImages.randomSparseRaw(big, 256L << 20, 63, 90, 4 << 20);
        Path out = dir.resolve("killed.qcow2");
        List<String> command = new ArrayList<>(Cli.javaCommand());
        command.addAll(List.of("copy", big.toString(), out.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            // data is being written (the finished image has some 230 MiB; the file goes only if the copy fails)
            Await.until(Duration.ofMinutes(1), "16 MiB written", () -> out.toFile().length() > 16 << 20);
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
        // killed at any moment: either not a qcow2 image at all, or (the copy had ended) a whole one
        JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", out.toString()));
        if (info.get("format").asText().equals("qcow2")) {
            ExternalTool.check("qemu-img", "check", out.toString());
            ExternalTool.check("qemu-img", "compare", big.toString(), out.toString());
        } else {
            assertEquals("raw", info.get("format").asText(), info::toString);
        }
    }

    @Test
    void aStreamIntoAQcow2FileIsOneClearLine() throws Exception {
        Path out = dir.resolve("stream.qcow2");
        Cli.Result r = Cli.runProcess(List.of("bash", "-c", "exec \"$@\" < " + sparse, "--"), "copy", "-", out.toString());
        assertEquals(ExitCodes.FAILURE, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertFalse(Files.exists(out), r::toString);
    }
}
