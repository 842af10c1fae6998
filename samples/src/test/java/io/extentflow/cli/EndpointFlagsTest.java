package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sinks.ZeroOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's endpoint flags come from the options the providers declare, and reach the endpoints. */
class EndpointFlagsTest {

    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    @Test
    void allocateZeroesReachesTheFileSink() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 5, 40, 256 << 10);

        Path punched = denseFile(dir.resolve("punched.raw"));
        Cli.Result plain = Cli.run("copy", src.toString(), punched.toString());
        assertEquals(0, plain.exitCode(), plain::toString);
        TestImages.assertSameContent(src, punched);
        assertTrue(TestImages.allocatedBytes(punched) < SIZE, "without the flag the zero ranges become holes");

        Path kept = denseFile(dir.resolve("kept.raw"));
        Cli.Result allocating = Cli.run("copy", "--allocate-zeroes", src.toString(), kept.toString());
        assertEquals(0, allocating.exitCode(), allocating::toString);
        TestImages.assertSameContent(src, kept);
        assertTrue(TestImages.allocatedBytes(kept) >= SIZE,
                "--allocate-zeroes left " + TestImages.allocatedBytes(kept) + " of " + SIZE + " bytes allocated");
    }

    @Test
    void helpTextsAreTheOptionsDescriptions() {
        Cli.Result help = Cli.run("copy", "--help");
        assertEquals(0, help.exitCode(), help::toString);
        String flat = help.out().replaceAll("\\s+", " ");
        for (String description : new String[] {HttpOptions.INSECURE.description(),
                ZeroOptions.ALLOCATE_ZEROES.description()}) {
            assertTrue(flat.contains(description), "help lacks '" + description + "': " + help.out());
        }
        assertTrue(flat.contains("--retries=N"), help.out());
        assertTrue(flat.contains(HttpOptions.RETRIES.description() + " Default: 4."), help.out());
    }

    @Test
    void aCommandThatOnlyReadsOffersNoTargetOption() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 1 << 20, 6, 50, 64 << 10);
        Cli.Result r = Cli.run("info", "--keep-cache", src.toString());
        assertEquals(ExitCodes.USAGE, r.exitCode(), r::toString);
        assertTrue(r.err().contains("Unknown option: '--keep-cache'"), r::toString);
        Cli.Result retries = Cli.run("info", "--retries", "-1", src.toString());
        assertEquals(ExitCodes.USAGE, retries.exitCode(), retries::toString);
        assertTrue(retries.err().contains("--retries must be at least 0, got -1"), retries::toString);
    }

    /** {@code SIZE} random bytes, all allocated: a target whose zeroed ranges show whether they were punched. */
    private static Path denseFile(Path path) throws Exception {
        byte[] data = new byte[(int) SIZE];
        new SplittableRandom(99).nextBytes(data);
        Files.write(path, data);
        assertTrue(TestImages.allocatedBytes(path) >= SIZE);
        return path;
    }
}
