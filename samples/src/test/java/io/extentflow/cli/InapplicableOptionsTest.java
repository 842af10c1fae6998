package io.extentflow.cli;

import static io.extentflow.cli.BadInputTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.QemuImg;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * An endpoint option that neither end of a copy takes is refused before anything is opened, as
 * {@code qemu-img convert -c} refuses a raw target: {@code --compress} to a raw file would otherwise
 * write it plain without a word. An option's default is not an option given.
 */
class InapplicableOptionsTest {

    private static final long SIZE = 3L << 20;

    @TempDir
    static Path dir;
    private static Path source;

    @BeforeAll
    static void image() throws Exception {
        source = dir.resolve("source.raw");
        TestImages.randomSparseRaw(source, SIZE, 31, 50, 128 << 10);
    }

    @ParameterizedTest(name = "copy {0} to {1}")
    @CsvSource(delimiter = '|', value = {
        "--compress           | out.img   | --compress does not apply to target @ (raw file); it applies to: qcow2 file targets",
        "--compress=zlib      | out.raw   | --compress does not apply to target @ (raw file); it applies to: qcow2 file targets",
        // the value is the default, but the user asked for a qcow2 layout
        "--cluster-size 64K   | out.img   | --cluster-size does not apply to target @ (raw file); it applies to: qcow2 imageio ticket targets, qcow2 stream targets, qcow2 file targets",
        "--backing base.raw   | out.img   | --backing does not apply to target @ (raw file); it applies to: qcow2 file targets",
        "--keep-cache         | out.qcow2 | --keep-cache does not apply to target @ (qcow2 file); it applies to: raw file targets",
        "--connections 2      | out.img   | --connections does not apply to source # (image file) or target @ (raw file); it applies to: imageio ticket sources, NBD export sources, imageio ticket targets, NBD export targets",
    })
    void anOptionNeitherEndTakesIsOneLineAndWritesNothing(String options, String target, String expected)
            throws Exception {
        Path out = dir.resolve(target);
        List<String> args = new ArrayList<>(List.of("copy"));
        args.addAll(List.of(options.split(" ")));
        args.addAll(List.of(source.toString(), out.toString()));
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        assertOneLine(r, ExitCodes.USAGE, expected.replace("@", out.toString()).replace("#", source.toString()));
        assertFalse(Files.exists(out), r::toString);
    }

    @Test
    void theSameOptionsApplyWhereTheEndsTakeThem() throws Exception {
        // --compress to a file not named .qcow2 once qcow2 is asked for; --keep-cache to a raw file
        Path qcow2 = dir.resolve("asked.img");
        Cli.Result r = Cli.run("copy", "--output-format", "qcow2", "--compress", "--cluster-size", "64K",
                source.toString(), qcow2.toString());
        assertEquals(0, r.exitCode(), r::toString);
        QemuImg.check(qcow2);
        QemuImg.compare(source, qcow2);
        Path raw = dir.resolve("cached.raw");
        r = Cli.run("copy", "--keep-cache", "--output-format", "raw", source.toString(), raw.toString());
        assertEquals(0, r.exitCode(), r::toString);
        TestImages.assertSameContent(source, raw);
    }

    @Test
    void defaultsOfOptionsNotGivenAreNotRefused() throws Exception {
        // --cluster-size has a default (64K) that a raw target must not see as given
        Path raw = dir.resolve("plain.img");
        Cli.Result r = Cli.run("copy", source.toString(), raw.toString());
        assertEquals(0, r.exitCode(), r::toString);
        TestImages.assertSameContent(source, raw);
        Cli.Result help = Cli.run("copy", "--help");
        assertTrue(help.out().replaceAll("\\s+", " ").contains("Default: 65536."), help::out);
    }
}
