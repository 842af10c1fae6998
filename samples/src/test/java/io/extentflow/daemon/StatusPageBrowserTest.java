package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The status page in headless Chromium: jobs listed with their state, a live progress bar fed by the
 * events stream (authorised by the page's cookie), errors shown, cancel through the button. Saves a
 * screenshot to {@code target/daemon-status-page.png}.
 */
class StatusPageBrowserTest {

    private static final long SIZE = 4L << 20;

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @Test
    void statusPageShowsLiveJobs() throws Exception {
        Path chromedriver = ExternalTool.require("chromedriver");
        Path chromium = ExternalTool.require("chromium");
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 71, 60, 1 << 20);
        // data everywhere, every read 100 ms late: the job is still running when the page is looked at
        var slow = servers.nbdkit(dir, "--filter=delay", "pattern", "size=256M", "rdelay=100ms");
        try (DaemonFixture f = new DaemonFixture(dir)) {
            String done = f.submit(src.toString(), dir.resolve("copy.raw").toString(), null);
            f.awaitResult(done);
            String failed = f.submit(dir.resolve("no-such-disk.raw").toString(), dir.resolve("x.raw").toString(), null);
            f.awaitResult(failed);
            String running = f.submit(slow.uri(), dir.resolve("slow.raw").toString(), JobsClient.JSON.createObjectNode()
                    .put("request_size", 256 << 10).put("max_in_flight", 256 << 10));

            // The profile and Chromium's temporary files go into this test's folder, deleted with it:
            // by default Chromium leaves an org.chromium.Chromium.* folder in /tmp after every run.
            Path profile = Files.createDirectories(dir.resolve("chromium-profile"));
            Path chromiumTmp = Files.createDirectories(dir.resolve("chromium-tmp"));
            ChromeOptions options = new ChromeOptions().setBinary(chromium.toFile())
                    .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--window-size=1280,640", "--user-data-dir=" + profile);
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(chromedriver.toFile()).usingAnyFreePort()
                    .withEnvironment(Map.of("TMPDIR", chromiumTmp.toString())).build();
            WebDriver browser = new ChromeDriver(service, options);
            try {
                browser.get("http://127.0.0.1:" + f.daemon.port() + "/#token=" + JobsClient.TOKEN);
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));

                WebElement doneRow = wait.until(b -> b.findElement(By.id("job-" + done)));
                assertEquals("done", doneRow.findElement(By.className("state")).getText());
                assertEquals("1", doneRow.findElement(By.className("fill")).getDomAttribute("data-fraction"));

                WebElement failedRow = browser.findElement(By.id("job-" + failed));
                assertEquals("failed", failedRow.findElement(By.className("state")).getText());
                assertTrue(failedRow.findElement(By.className("error")).getText().contains("no-such-disk.raw"));

                // the running job's bar moves, fed by its event stream (opened with the page's cookie)
                WebElement runningRow = browser.findElement(By.id("job-" + running));
                wait.until(b -> "true".equals(runningRow.getDomAttribute("data-live")));
                double first = waitForFraction(wait, runningRow, 0);
                double later = waitForFraction(wait, runningRow, first);
                assertTrue(later > first && later < 1, first + " then " + later);
                assertTrue(runningRow.findElement(By.className("throughput")).getText().endsWith("/s"));
                assertTrue(browser.findElement(By.id("summary")).getText().contains("1 running"));

                // as bytes: OutputType.FILE would leave a screenshot*.png in the temporary directory
                Path saved = Path.of("target", "daemon-status-page.png");
                Files.write(saved, ((ChromeDriver) browser).getScreenshotAs(OutputType.BYTES));
                assertTrue(Files.size(saved) > 10_000, "screenshot too small to show anything");

                // cancel from the page
                runningRow.findElement(By.className("cancel")).click();
                wait.until(b -> runningRow.findElement(By.className("state")).getText().equals("cancelled"));
                assertEquals("cancelled", f.job(running).get("state").asText());
            } finally {
                browser.quit();
            }
            assertTrue(Files.exists(profile.resolve("Local State")), "Chromium kept its profile in " + profile);
        }
    }

    /** Waits until the row's bar shows more than {@code above}; returns the fraction shown. */
    private static double waitForFraction(WebDriverWait wait, WebElement row, double above) {
        return wait.until(b -> {
            String v = row.findElement(By.className("fill")).getDomAttribute("data-fraction");
            double d = v == null ? 0 : Double.parseDouble(v);
            return d > above ? d : null;
        });
    }
}
